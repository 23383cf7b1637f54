//! The sip-inspect binary, run as a user would: file argument, stdin,
//! `-`, `--crlf`, `--help`, errors. Native only (it is a native tool).
#![cfg(not(target_arch = "wasm32"))]

use serde_json::Value;
use std::io::Write;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_sip-inspect");

const INVITE: &str = "INVITE sip:1000@pbx.example.com SIP/2.0\r\n\
Via: SIP/2.0/WSS edge.example.com;branch=z9hG4bKedge1\r\n\
Via: SIP/2.0/WSS caller.invalid;branch=z9hG4bKc1\r\n\
Max-Forwards: 69\r\n\
From: \"Bob\" <sip:1001@pbx.example.com>;tag=from1\r\n\
To: <sip:1000@pbx.example.com>\r\n\
Call-ID: inspect-1@caller\r\n\
CSeq: 7 INVITE\r\n\
Contact: <sip:bob@caller.invalid;transport=ws>, <sip:bob2@caller.invalid>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 5\r\n\r\nv=0\r\n";

/// Runs the binary with `args` and `stdin`; (exit code, stdout, stderr).
fn run(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sip-inspect runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    let out = child.wait_with_output().expect("sip-inspect ends");
    (
        out.status.code().expect("an exit code"),
        String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        String::from_utf8(out.stderr).expect("UTF-8 stderr"),
    )
}

/// stdout must be exactly one line holding one JSON object.
fn json(stdout: &str) -> Value {
    assert!(stdout.ends_with('\n'), "{stdout:?}");
    assert_eq!(stdout.lines().count(), 1, "{stdout:?}");
    let v: Value = serde_json::from_str(stdout.trim_end()).expect("JSON");
    assert!(v.is_object());
    v
}

fn file(name: &str, content: &[u8]) -> std::path::PathBuf {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, content).expect("write temp file");
    path
}

#[test]
fn a_valid_invite_from_a_file() {
    let path = file("inspect-invite.sip", INVITE.as_bytes());
    let (code, out, _) = run(&[path.to_str().unwrap()], b"");
    assert_eq!(code, 0);
    let v = json(&out);
    assert_eq!(v["accepted"], true);
    assert_eq!(v["kind"], "request");
    assert_eq!(v["method"], "INVITE");
    assert_eq!(v["status"], Value::Null);
    assert_eq!(v["reason_phrase"], Value::Null);
    assert_eq!(v["request_uri"], "sip:1000@pbx.example.com");
    assert_eq!(v["via_branch"], "z9hG4bKedge1");
    assert_eq!(v["from"]["uri"], "sip:1001@pbx.example.com");
    assert_eq!(v["from"]["tag"], "from1");
    assert_eq!(v["to"]["uri"], "sip:1000@pbx.example.com");
    assert_eq!(v["to"]["tag"], Value::Null);
    assert_eq!(v["call_id"], "inspect-1@caller");
    assert_eq!(v["cseq"]["seq"], 7);
    assert_eq!(v["cseq"]["method"], "INVITE");
    assert_eq!(
        v["contacts"],
        serde_json::json!([
            "sip:bob@caller.invalid;transport=ws",
            "sip:bob2@caller.invalid"
        ])
    );
    assert_eq!(v["content_length"], 5);
    assert_eq!(v["body_length"], 5);
    // the keys in the documented order
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys[..3], ["accepted", "kind", "method"]);
    assert_eq!(keys.last(), Some(&"body_length"));
}

#[test]
fn a_response_on_stdin() {
    let resp = "SIP/2.0 486 Busy Here\r\n\
                Via: SIP/2.0/WSS caller.invalid;branch=z9hG4bKc1\r\n\
                From: <sip:1001@pbx.example.com>;tag=from1\r\n\
                To: <sip:1000@pbx.example.com>;tag=to9\r\n\
                Call-ID: inspect-2\r\nCSeq: 7 INVITE\r\n\r\n";
    let (code, out, _) = run(&[], resp.as_bytes());
    assert_eq!(code, 0);
    let v = json(&out);
    assert_eq!(v["kind"], "response");
    assert_eq!(v["status"], 486);
    assert_eq!(v["reason_phrase"], "Busy Here");
    assert_eq!(v["method"], Value::Null);
    assert_eq!(v["request_uri"], Value::Null);
    assert_eq!(v["to"]["tag"], "to9");
    assert_eq!(v["content_length"], Value::Null, "none was written");
    assert_eq!(v["body_length"], 0);
    assert_eq!(v["contacts"], serde_json::json!([]));
}

#[test]
fn a_malformed_request_is_rejected_with_the_400() {
    let bad = INVITE.replace("CSeq: 7 INVITE", "CSeq: 7 BYE");
    let (code, out, _) = run(&["-"], bad.as_bytes());
    assert_eq!(code, 1);
    let v = json(&out);
    assert_eq!(v["accepted"], false);
    assert_eq!(
        v["reason"],
        "CSeq method BYE does not match request method INVITE"
    );
    let reply = v["reply"].as_str().expect("the 400 as text");
    assert!(reply.starts_with("SIP/2.0 400 Bad Request\r\n"), "{reply}");
    assert!(
        reply.contains("\r\nCall-ID: inspect-1@caller\r\n"),
        "{reply}"
    );
    assert!(
        reply.contains("Warning: 399 softphone \"CSeq method BYE does not match"),
        "{reply}"
    );
    // a malformed response: no reply
    let (code, out, _) = run(&[], b"SIP/2.0 99 Odd\r\n\r\n");
    assert_eq!(code, 1);
    let v = json(&out);
    assert_eq!(v["reply"], Value::Null);
    assert_eq!(v["reason"], "invalid status code 99");
}

#[test]
fn keep_alive_help_and_errors() {
    let (code, out, _) = run(&["-"], b"\r\n\r\n");
    assert_eq!(code, 0);
    assert_eq!(
        json(&out),
        serde_json::json!({"accepted": true, "kind": "keepalive"})
    );

    let (code, out, _) = run(&["--help"], b"");
    assert_eq!(code, 0);
    assert!(
        out.contains("usage: sip-inspect") && out.contains("--crlf"),
        "{out}"
    );

    let (code, out, err) = run(&["/nonexistent/message.sip"], b"");
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.contains("cannot read /nonexistent/message.sip"),
        "{err}"
    );

    let (code, _, err) = run(&["--frobnicate"], b"");
    assert_eq!(code, 2);
    assert!(err.contains("unknown option --frobnicate"), "{err}");

    let (code, _, _) = run(&["a.sip", "b.sip"], b"");
    assert_eq!(code, 2);
}

/// A hand-written file with LF line ends: the headers read either way, but
/// the Content-Length (5, counted for "v=0\r\n") only fits with --crlf.
#[test]
fn crlf_option_for_hand_written_files() {
    let lf = INVITE.replace("\r\n", "\n");
    let path = file("inspect-lf.sip", lf.as_bytes());
    let p = path.to_str().unwrap();

    let (code, out, _) = run(&[p], b"");
    assert_eq!(code, 1);
    assert_eq!(
        json(&out)["reason"],
        "body shorter than Content-Length (4 < 5)"
    );

    let (code, out, _) = run(&["--crlf", p], b"");
    assert_eq!(code, 0);
    let v = json(&out);
    assert_eq!(v["body_length"], 5);
    assert_eq!(v["call_id"], "inspect-1@caller");
}
