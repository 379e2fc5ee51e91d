//! What the catalog can hold about a listener: when, on which output, with which family of
//! player. No column can hold an address, a user agent or a token.

use antenne::catalog::Catalog;

#[test]
fn sessions_table_has_no_column_that_identifies_a_person() {
    let dir = tempfile::tempdir().unwrap();
    Catalog::open(dir.path()).unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("catalog.sqlite3")).unwrap();
    let mut stmt = conn
        .prepare("SELECT name FROM pragma_table_info('listener_sessions') ORDER BY cid")
        .unwrap();
    let columns: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        columns,
        ["id", "output", "client", "started_ms", "ended_ms"],
        "a new column must not identify a listener (issue 16)"
    );
    for c in &columns {
        for banned in ["ip", "addr", "agent", "token", "host", "listener"] {
            assert!(!c.contains(banned), "column {c} looks identifying");
        }
    }
    // The stored values are closed lists: free text (a user agent) is refused.
    let refused = conn.execute(
        "INSERT INTO listener_sessions (output, client, started_ms, ended_ms)
         VALUES ('mp3', 'Mozilla/5.0 (X11; Linux x86_64)', 0, 1)",
        [],
    );
    assert!(refused.is_err());
    let refused = conn.execute(
        "INSERT INTO listener_sessions (output, client, started_ms, ended_ms)
         VALUES ('203.0.113.7', 'browser', 0, 1)",
        [],
    );
    assert!(refused.is_err());
}
