//! Live items in the log: an operator's override ("direct spécial") is one `special` airing
//! of exactly its frames, and the bed it cut is two airings, the second from the file's frame
//! where the programme resumed.

use std::sync::Arc;
use std::time::Duration;

use antenne::catalog::AirKind;
use antenne::playout::airplay::{AirplayWriter, WriterConfig};
use antenne::playout::{LiveBuffer, LiveInputs, ManualClock, PlayoutConfig, Takeover, Timebase};
use antenne_testkit::playout::{R, ts};
use jiff::SignedDuration;

use super::day::{EDGE, RunSink, station};

#[test]
fn an_override_is_one_special_airing_and_cuts_the_bed_in_two() {
    let st = station();
    let (from, to) = (ts("2027-03-03T12:00:00Z"), ts("2027-03-03T12:02:00Z"));
    let (since, until) = (
        from + SignedDuration::from_secs(5),
        from + SignedDuration::from_secs(25),
    );
    let inputs = LiveInputs::new(["live"], LiveBuffer::unprimed(R as usize));
    let input = inputs.get("live").unwrap().clone();
    let _source = input.connect().unwrap();
    input.set_takeover(Some(Takeover {
        since,
        until: Some(until),
    }));
    let clock = Arc::new(ManualClock::auto_advance(from));
    let (airplay, writer) = AirplayWriter::start(
        st.catalog.clone(),
        WriterConfig {
            sample_rate: R,
            media_dir: st.media.clone(),
            data_dir: st.catalog.data_dir().to_path_buf(),
            clock: clock.clone(),
        },
    )
    .unwrap();
    let (_tx, rx) = tokio::sync::watch::channel(st.schedule.clone());
    let config = PlayoutConfig {
        sample_rate: R,
        media_dir: st.media.clone(),
        block_frames: 256,
        edge_fade: Duration::from_millis(EDGE),
        wait_for_data: true,
        run_until: Some(to),
        live: inputs.clone(),
        airplay,
        ..PlayoutConfig::default()
    };
    let sink = RunSink::default();
    antenne::playout::start(config, rx, st.catalog.clone(), Box::new(sink), clock)
        .unwrap()
        .join();
    writer.stop();
    let log = st.catalog.airplay_between(from, to).unwrap();
    let tb = Timebase::unix(R);
    let (s, e) = (tb.frame_at(since), tb.frame_at(until));
    let special: Vec<_> = log.iter().filter(|a| a.kind == AirKind::Special).collect();
    let f0 = tb.frame_at(from);
    let brief: Vec<_> = log
        .iter()
        .map(|a| (a.start_frame - f0, a.frames, a.path.clone()))
        .collect();
    assert_eq!(special.len(), 1, "{brief:?}");
    assert_eq!(
        (special[0].start_frame, special[0].frames),
        (s, Some(e - s))
    );
    assert_eq!(special[0].path, None);
    // The airing before ends on the override's first frame, the one after starts on its end,
    // in the same file, from the frame the programme had reached.
    let i = log.iter().position(|a| a.kind == AirKind::Special).unwrap();
    let (before, after) = (&log[i - 1], &log[i + 1]);
    assert_eq!(before.start_frame + before.frames.unwrap(), s);
    assert_eq!(after.start_frame, e);
    assert_eq!(before.path, after.path, "{brief:?}");
    assert!(before.kind == AirKind::Bed && after.kind == AirKind::Bed);
    // Back to back over the two minutes.
    for w in log.windows(2) {
        assert_eq!(w[0].start_frame + w[0].frames.unwrap(), w[1].start_frame);
    }
    let total: u64 = log.iter().map(|a| a.frames.unwrap()).sum();
    assert_eq!(log[0].start_frame, tb.frame_at(from));
    assert_eq!(total, tb.frame_at(to) - tb.frame_at(from));
}
