//! Random frame sizes and counts round-trip byte for byte.

mod common;

use common::TempDir;
use nanots::{Reader, Writer, allocate};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn frames_round_trip(
        frames in proptest::collection::vec(
            (0i64..1000, any::<u64>(), proptest::collection::vec(any::<u8>(), 0..9000)),
            1..80,
        ),
        block_pages in 1u64..4,
    ) {
        let dir = TempDir::new("prop");
        let path = dir.file("p.nts");
        let block_size = block_pages * 4096 * 2;
        allocate(&path, block_size, 120).unwrap();
        let writer = Writer::open(&path, false).unwrap();
        let mut ctx = writer.create_write_context("s", "m").unwrap();
        let max = ctx.max_frame_size();
        let mut ts = -500i64;
        let mut expected = Vec::new();
        for (gap, sk, data) in frames {
            ts += gap + 1;
            let data = if data.len() > max { data[..max].to_vec() } else { data };
            ctx.write_with_key(&data, ts, sk, sk as u32).unwrap();
            expected.push((ts, sk, data));
        }
        drop(ctx);
        let reader = Reader::open(&path).unwrap();
        let got: Vec<(i64, u64, Vec<u8>)> = reader
            .iter("s")
            .unwrap()
            .into_iter()
            .map(|f| f.unwrap())
            .map(|f| {
                assert_eq!(f.flags, f.secondary_key as u32);
                (f.timestamp, f.secondary_key, f.data)
            })
            .collect();
        prop_assert_eq!(&got, &expected);
        // Backward gives the same frames reversed.
        let mut it = reader.iter("s").unwrap();
        let mut back = Vec::new();
        let mut ok = it.seek_end().unwrap();
        while ok {
            back.push(it.frame().unwrap().timestamp);
            ok = it.prev().unwrap();
        }
        back.reverse();
        prop_assert_eq!(back, expected.iter().map(|e| e.0).collect::<Vec<_>>());
    }
}
