//! Playout: renders the schedule as continuous PCM at the station rate, paced by the clock.
