//! Nothing accumulates in the core over many calls (issue 7: "no growth in
//! memory across 100 calls"): after the linger of ended calls (64·T1) and
//! of their transactions, every table of each phone is back to its size
//! before the calls.

mod support;

use softphone::sip::{CallState, Command, Duration, TableSizes};
use support::{Bed, Side};

fn sizes(bed: &mut Bed, side: Side) -> TableSizes {
    bed.ua(side).table_sizes()
}

#[test]
fn tables_return_to_idle_after_many_calls() {
    let mut bed = Bed::new();
    bed.register_both();
    bed.advance(Duration::from_secs(1));
    let idle = [sizes(&mut bed, Side::A), sizes(&mut bed, Side::B)];
    assert_eq!(idle[0].calls, 0);

    let mut peak_calls = 0;
    for i in 0..150u32 {
        bed.command(
            Side::A,
            Command::Call {
                target: "1001".into(),
            },
        );
        let ca = bed.last_call_id(Side::A).expect("A calls");
        let cb = bed.incoming_call(Side::B).expect("B rings");
        if i % 5 == 4 {
            // cancelled while ringing
            bed.command(Side::A, Command::Hangup { call: ca });
        } else {
            bed.command(Side::B, Command::Answer { call: cb });
            assert!(
                bed.call_states(Side::A, ca)
                    .iter()
                    .any(|s| matches!(s, CallState::Active { .. })),
                "call {i} is up"
            );
            bed.advance(Duration::from_millis(300));
            // either side hangs up
            if i % 2 == 0 {
                bed.command(Side::A, Command::Hangup { call: ca });
            } else {
                bed.command(Side::B, Command::Hangup { call: cb });
            }
        }
        bed.advance(Duration::from_millis(200));
        peak_calls = peak_calls.max(sizes(&mut bed, Side::A).calls);
    }
    // ended calls linger (64·T1 = 32 s; here 150 calls take 70 s)
    assert!(peak_calls > 1, "ended calls linger: {peak_calls}");
    assert!(peak_calls < 100, "but are reaped: {peak_calls}");

    bed.advance(Duration::from_secs(40));
    assert_eq!(sizes(&mut bed, Side::A), idle[0], "A's tables");
    assert_eq!(sizes(&mut bed, Side::B), idle[1], "B's tables");
}
