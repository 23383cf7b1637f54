//! A deterministic, bounded run of the two fuzz harnesses (`fuzz/harness.rs`,
//! the same code the cargo-fuzz targets run) in plain `cargo test`: seeded
//! mutations of the RFC 4475 torture corpus and of the agent's templates,
//! plus every crash input the fuzzers ever found (`fuzz/regressions/`).
//! With `FUZZ_SEED_DIR=<dir>` it also writes that corpus to `<dir>`.
//! Any panic (in the parser, the agent, or a harness invariant) fails it.

#[path = "torture/cases.rs"]
mod cases;
#[path = "../fuzz/harness.rs"]
mod harness;

use harness::{check_codec_cut, check_dtls_answer, check_frame, mutate, run_agent, SplitMix};
use std::path::Path;

/// The torture cases plus the agent templates, as frames.
fn corpus() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = cases::all().into_iter().map(|c| c.bytes).collect();
    // the templates, as the agent harness fills them in a few states
    for seed in 0..16u8 {
        let ops: Vec<u8> = (0..64u8)
            .map(|i| i.wrapping_mul(37).wrapping_add(seed))
            .collect();
        let mut rd = harness::Reader::new(&ops);
        let mut run = run_agent(&[seed; 9]);
        for _ in 0..8 {
            out.push(run.template(&mut rd));
        }
    }
    out
}

/// The DTLS-role check of the parse harness on a real offer and answer (as
/// Chromium makes them), and on mutations of the pair.
#[test]
fn dtls_answer_check_on_an_offer_answer_pair() {
    let offer = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n\
        m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=ice-ufrag:x\r\na=setup:actpass\r\na=mid:0\r\n";
    let answer = offer
        .replace("a=setup:actpass", "a=setup:active")
        .replace("o=- 1 2", "o=- 7 2");
    assert!(check_dtls_answer(offer, &answer));
    assert!(!check_dtls_answer(&answer, &answer));
    let mut rng = SplitMix(0x5eed_0d71);
    for _ in 0..2000 {
        let o = mutate(&mut rng, offer.as_bytes(), answer.as_bytes());
        let a = mutate(&mut rng, answer.as_bytes(), offer.as_bytes());
        check_dtls_answer(&String::from_utf8_lossy(&o), &String::from_utf8_lossy(&a));
    }
}

/// The codec cut (issue 16's codec choice, on every remote offer) on an
/// offer as Chromium makes it, and on mutations of it.
#[test]
fn codec_cut_on_mutated_offers() {
    let offer = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
        m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 126\r\na=rtpmap:111 opus/48000/2\r\n\
        a=fmtp:111 minptime=10\r\na=rtpmap:63 red/48000/2\r\na=rtpmap:9 G722/8000\r\n\
        a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:126 telephone-event/8000\r\n\
        m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 102 103 114 116\r\na=rtpmap:96 VP8/90000\r\n\
        a=rtcp-fb:96 nack\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n\
        a=rtpmap:98 VP9/90000\r\na=rtpmap:99 rtx/90000\r\na=fmtp:99 apt=98\r\n\
        a=rtpmap:102 H264/90000\r\na=rtpmap:103 rtx/90000\r\na=fmtp:103 apt=102\r\n\
        a=rtpmap:114 red/90000\r\na=rtpmap:116 ulpfec/90000\r\n";
    check_codec_cut(offer);
    let mut rng = SplitMix(0x00c0_dec5);
    for _ in 0..3000 {
        let o = mutate(
            &mut rng,
            offer.as_bytes(),
            b"m=video 0 RTP/AVP 96 96\r\na=fmtp:96 apt=96",
        );
        check_codec_cut(&String::from_utf8_lossy(&o));
    }
}

#[test]
fn parse_harness_on_mutated_corpus() {
    let corpus = corpus();
    // `FUZZ_SEED_DIR=fuzz/corpus/parse cargo test --test fuzz_smoke` also
    // writes the corpus out as seeds for `cargo fuzz run parse`
    if let Some(dir) = std::env::var_os("FUZZ_SEED_DIR") {
        std::fs::create_dir_all(&dir).expect("seed directory");
        for (i, frame) in corpus.iter().enumerate() {
            let path = Path::new(&dir).join(format!("seed-{i:03}"));
            std::fs::write(path, frame).expect("seed written");
        }
    }
    for frame in &corpus {
        check_frame(frame);
    }
    let mut rng = SplitMix(0x5eed_0001);
    let mut accepted = 0;
    for _ in 0..6000 {
        let a = &corpus[rng.below(corpus.len())];
        let b = &corpus[rng.below(corpus.len())];
        let frame = mutate(&mut rng, a, b);
        check_frame(&frame);
        if matches!(
            softphone::sip::message::classify(&frame),
            softphone::sip::message::Incoming::Request(_)
                | softphone::sip::message::Incoming::Response(_)
        ) {
            accepted += 1;
        }
    }
    // the mutations must not all be rejected at once (else the round-trip
    // invariants are never exercised)
    assert!(accepted > 600, "only {accepted} mutated frames accepted");
}

#[test]
fn agent_harness_on_random_operations() {
    let mut rng = SplitMix(0x5eed_0002);
    let mut max_calls = 0;
    let mut frames = 0;
    for _ in 0..400 {
        let len = 16 + rng.below(400);
        let ops: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let run = run_agent(&ops);
        max_calls = max_calls.max(run.max_calls);
        frames += run.frames_sent;
    }
    // the operations reach calls, not only registration
    assert!(max_calls >= 1, "no call was ever created");
    assert!(frames > 400, "the agent sent only {frames} frames");
}

/// Every input a fuzzer ever crashed on, replayed (file names are the
/// libFuzzer artifact names; the target is the directory).
#[test]
fn fuzz_regressions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut n = 0;
    for target in ["parse", "agent"] {
        let Ok(dir) = std::fs::read_dir(root.join(target)) else {
            continue;
        };
        for entry in dir {
            let path = entry.expect("dir entry").path();
            let data = std::fs::read(&path).expect("readable regression input");
            match target {
                "parse" => check_frame(&data),
                _ => {
                    run_agent(&data);
                }
            }
            n += 1;
        }
    }
    assert!(n >= 8, "only {n} regression inputs found in {root:?}");
}
