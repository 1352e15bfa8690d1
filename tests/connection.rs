//! The TachyonDB manual's API over the block store.

mod common;

use common::TempDir;
use nanots::{
    Column, Connection, ConnectionOptions, Error, QueryResult, TimeUnit, Value, ValueType,
};

#[test]
fn manual_quickstart() {
    let dir = TempDir::new("quick");
    let conn = Connection::new(dir.file("db")).unwrap();
    conn.create_stream(r#"latency{service="web"}"#, ValueType::Integer64)
        .unwrap();
    let mut inserter = conn.prepare_insert(r#"latency{service = "web"}"#).unwrap();
    for i in 0..100i64 {
        inserter.insert(i, i).unwrap();
    }
    inserter.flush().unwrap();
    let mut query = conn
        .prepare_query(r#"latency{service="web"}"#, None, None)
        .unwrap();
    let mut n = 0;
    while let Some(v) = query.next_vector() {
        assert_eq!(v.value, Value::Integer64(n));
        assert_eq!(v.timestamp, n);
        n += 1;
    }
    assert_eq!(n, 100);
    let mut sum = conn
        .prepare_query(r#"sum(latency{service="web"})"#, None, None)
        .unwrap();
    assert!(sum.is_scalar());
    assert_eq!(sum.next_scalar(), Some(Value::Integer64(4950)));
    assert_eq!(sum.next_scalar(), None);
}

#[test]
fn streams_are_identified_by_their_full_label_set() {
    let dir = TempDir::new("labels");
    let conn = Connection::new(dir.file("db")).unwrap();
    conn.create_stream(r#"x{a="1"}"#, ValueType::Float64)
        .unwrap();
    conn.create_stream(r#"x{a="1",b="2"}"#, ValueType::Float64)
        .unwrap();
    assert!(matches!(
        conn.create_stream(r#"x{ a = "1" }"#, ValueType::Float64),
        Err(Error::StreamExists(_))
    ));
    assert!(conn.check_stream_exists(r#"x{b="2",a="1"}"#).unwrap());
    assert!(!conn.check_stream_exists(r#"x{b="2"}"#).unwrap());
    {
        let mut a = conn.prepare_insert(r#"x{a="1"}"#).unwrap();
        a.insert(1, 1.5).unwrap();
        let mut ab = conn.prepare_insert(r#"x{a="1",b="2"}"#).unwrap();
        ab.insert(1, 2.5).unwrap();
    }
    let mut q = conn.prepare_query(r#"sum(x{a="1"})"#, None, None).unwrap();
    assert_eq!(
        q.next_scalar(),
        Some(Value::Float64(4.0)),
        "the selector matches both streams"
    );
    let streams = conn.streams().unwrap();
    let mut names: Vec<&str> = streams.iter().map(|s| s.name.as_str()).collect();
    names.sort();
    assert_eq!(names, vec![r#"x{a="1",b="2"}"#, r#"x{a="1"}"#]);
    assert!(
        streams
            .iter()
            .all(|s| s.points == 1 && s.value_type == ValueType::Float64)
    );
}

#[test]
fn typed_errors_and_nothing_written_on_error() {
    let dir = TempDir::new("errors");
    let conn = Connection::new(dir.file("db")).unwrap();
    conn.create_stream("temp", ValueType::Float64).unwrap();
    let mut ins = conn.prepare_insert("temp").unwrap();
    ins.insert(10, 1.0).unwrap();
    let e4 = ins.insert(11, 5i64).unwrap_err();
    assert!(
        matches!(e4, Error::WrongValueType { .. }) && e4.to_string().starts_with("E4"),
        "{e4}"
    );
    assert!(matches!(
        ins.insert(10, 2.0),
        Err(Error::NonMonotonicTimestamp { .. })
    ));
    assert!(matches!(
        ins.insert(9, 2.0),
        Err(Error::NonMonotonicTimestamp { .. })
    ));
    // A batch with one bad timestamp writes nothing.
    let err = ins
        .insert_batch(&[20, 21, 21], &Column::Float64(vec![1.0, 2.0, 3.0]))
        .unwrap_err();
    assert!(matches!(err, Error::NonMonotonicTimestamp { .. }));
    ins.insert_batch(&[20, 21], &Column::Float64(vec![1.0, 2.0]))
        .unwrap();
    drop(ins);
    let q = conn
        .prepare_query("temp", None, None)
        .unwrap()
        .collect()
        .unwrap();
    let QueryResult::Series(series) = q else {
        panic!("vector expected")
    };
    assert_eq!(series[0].timestamps, vec![10, 20, 21]);
    // Out of order across inserters too.
    let mut again = conn.prepare_insert("temp").unwrap();
    assert!(matches!(
        again.insert(21, 0.0),
        Err(Error::NonMonotonicTimestamp { .. })
    ));
    drop(again);
    let e3 = conn
        .prepare_query("nothing_here", None, None)
        .err()
        .unwrap();
    assert!(
        matches!(e3, Error::NoMatchingStream(_)) && e3.to_string().starts_with("E3"),
        "{e3}"
    );
    assert!(matches!(
        conn.prepare_insert("nothing_here"),
        Err(Error::NoMatchingStream(_))
    ));
    let e6 = conn.prepare_query("sum(temp", None, None).err().unwrap();
    assert!(matches!(e6, Error::Syntax(_)), "{e6}");
    assert!(
        e6.to_string().contains('^'),
        "syntax errors show a caret: {e6}"
    );
    assert!(matches!(
        conn.create_stream("bad name", ValueType::Float64),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn open_bounds_windows_and_empty_results() {
    let dir = TempDir::new("bounds");
    let conn = Connection::new(dir.file("db")).unwrap();
    conn.create_stream("m", ValueType::UInteger64).unwrap();
    let mut ins = conn.prepare_insert("m").unwrap();
    for ts in 0..10_000i64 {
        ins.insert_uinteger64(ts * 10, ts as u64).unwrap();
    }
    drop(ins);
    let count = |start, end| {
        let mut q = conn.prepare_query("count(m)", start, end).unwrap();
        q.next_scalar().unwrap().as_u64()
    };
    assert_eq!(count(None, None), 10_000);
    assert_eq!(count(Some(50_000), None), 5_000);
    assert_eq!(count(None, Some(49_990)), 5_000);
    assert_eq!(count(Some(100), Some(100)), 1);
    assert_eq!(count(Some(1_000_000), None), 0);
    let mut empty_sum = conn.prepare_query("sum(m)", Some(1_000_000), None).unwrap();
    assert_eq!(empty_sum.next_scalar(), None);
    let mut q = conn.prepare_query("m[1s]", None, Some(99_990)).unwrap();
    let mut points = 0;
    while let Some(v) = q.next_vector() {
        assert!(v.timestamp > 98_990 && v.timestamp <= 99_990);
        points += 1;
    }
    assert_eq!(points, 100);
}

#[test]
fn delete_and_listings() {
    let dir = TempDir::new("delete");
    let conn = Connection::new(dir.file("db")).unwrap();
    conn.create_stream("a", ValueType::Integer64).unwrap();
    conn.create_stream("b", ValueType::Integer64).unwrap();
    let mut a = conn.prepare_insert("a").unwrap();
    for ts in 0..50_000 {
        a.insert(ts, ts % 7).unwrap();
    }
    assert!(
        conn.delete_stream("a").is_err(),
        "a live inserter blocks deletion"
    );
    drop(a);
    let stats = conn.stats().unwrap();
    assert_eq!((stats.streams, stats.points), (2, 50_000));
    assert!(
        stats.bytes_used > 0 && stats.bytes_used < 50_000,
        "compressed: {} bytes",
        stats.bytes_used
    );
    let used_before = stats.blocks_used;
    conn.delete_stream("a").unwrap();
    assert!(!conn.check_stream_exists("a").unwrap());
    assert!(matches!(
        conn.delete_stream("a"),
        Err(Error::StreamNotFound(_))
    ));
    let stats = conn.stats().unwrap();
    assert_eq!((stats.streams, stats.points), (1, 0));
    assert!(stats.blocks_used < used_before);
    // The name can be reused, from scratch.
    conn.create_stream("a", ValueType::Float64).unwrap();
    let mut a = conn.prepare_insert("a").unwrap();
    a.insert(0, 1.0).unwrap();
    drop(a);
    assert!(conn.check().unwrap().is_ok());
}

#[test]
fn reopening_keeps_streams_and_time_unit() {
    let dir = TempDir::new("reopen");
    let path = dir.file("db");
    {
        let conn = Connection::open_with(
            &path,
            ConnectionOptions {
                time_unit: TimeUnit::Seconds,
                ..Default::default()
            },
        )
        .unwrap();
        conn.create_stream("s", ValueType::Integer64).unwrap();
        let mut ins = conn.prepare_insert("s").unwrap();
        for ts in 0..7200 {
            ins.insert(ts, 1i64).unwrap();
        }
    }
    let conn = Connection::new(&path).unwrap();
    assert_eq!(conn.time_unit(), TimeUnit::Seconds);
    // Durations are in the database's unit: 1h = 3600 seconds.
    let mut q = conn.prepare_query("sum(s)[1h]", None, None).unwrap();
    // Buckets are ((n-1)h, nh]: timestamp 0 closes bucket 0.
    assert_eq!(
        q.next_vector().map(|v| (v.timestamp, v.value)),
        Some((0, Value::Integer64(1)))
    );
    assert_eq!(
        q.next_vector().map(|v| (v.timestamp, v.value)),
        Some((3600, Value::Integer64(3600)))
    );
    assert_eq!(
        q.next_vector().map(|v| (v.timestamp, v.value)),
        Some((7200, Value::Integer64(3599)))
    );
    assert_eq!(q.next_vector(), None);
}

#[test]
fn inserters_in_threads_while_queries_run() {
    let dir = TempDir::new("threads");
    let conn = Connection::new(dir.file("db")).unwrap();
    for i in 0..4 {
        conn.create_stream(&format!("load{{cpu=\"{i}\"}}"), ValueType::Integer64)
            .unwrap();
    }
    let writers: Vec<_> = (0..4)
        .map(|i| {
            let conn = conn.clone();
            std::thread::spawn(move || {
                let mut ins = conn
                    .prepare_insert(&format!("load{{cpu=\"{i}\"}}"))
                    .unwrap();
                for ts in 0..20_000i64 {
                    ins.insert(ts, 1i64).unwrap();
                    if ts % 5000 == 0 {
                        ins.flush().unwrap();
                    }
                }
            })
        })
        .collect();
    let mut last = 0;
    for _ in 0..20 {
        let mut q = conn.prepare_query("count(load)", None, None).unwrap();
        let n = q.next_scalar().unwrap().as_u64();
        assert!(n >= last, "counts never go backwards");
        last = n;
    }
    for w in writers {
        w.join().unwrap();
    }
    let mut q = conn
        .prepare_query("count by (cpu) (load)", None, None)
        .unwrap();
    let mut groups = 0;
    while let Ok(Some((_, v))) = q.try_next_scalar() {
        assert_eq!(v, Value::UInteger64(20_000));
        groups += 1;
    }
    assert_eq!(groups, 4);
}

#[test]
fn a_frame_file_is_not_mistaken_for_a_database() {
    let dir = TempDir::new("notadb");
    std::fs::create_dir_all(dir.file("db")).unwrap();
    nanots::allocate(dir.file("db").join("data.nts"), 64 * 1024, 2).unwrap();
    let err = Connection::new(dir.file("db"))
        .err()
        .expect("a frame file has no time unit");
    assert!(matches!(err, Error::Schema(_)), "{err}");
}
