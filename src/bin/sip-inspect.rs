//! sip-inspect: what the phone makes of one SIP message.
//!
//! Reads one message from a file (or stdin), runs it through
//! `softphone::sip::message::classify` (exactly what the phone does with a
//! WebSocket frame) and prints one JSON object on one line. Exit status: 0
//! accepted, 1 rejected, 2 usage or I/O error.

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    std::process::exit(native::run());
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use serde_json::{json, Value};
    use softphone::sip::message::{canonical_header_name, classify, Incoming, Message, NameAddr};
    use std::io::{Read, Write};

    const USAGE: &str = "\
usage: sip-inspect [--crlf] [FILE | -]

Reads ONE SIP message from FILE (or stdin when FILE is '-' or absent),
classifies it exactly as the softphone does with a WebSocket frame, and
prints one JSON object on one line:

  accepted:   {\"accepted\":true,\"kind\":\"request\"|\"response\",\"method\",\"status\",
               \"reason_phrase\",\"request_uri\",\"via_branch\",\"from\":{\"uri\",\"tag\"},
               \"to\":{\"uri\",\"tag\"},\"call_id\",\"cseq\":{\"seq\",\"method\"},
               \"contacts\":[uri...],\"content_length\",\"body_length\"}
              (fields that do not apply are null)
  keep-alive: {\"accepted\":true,\"kind\":\"keepalive\"}
  rejected:   {\"accepted\":false,\"reason\":\"...\",\"reply\":\"<the 400 the phone
               would send>\"|null}

Options:
  --crlf   turn every bare LF into CRLF before classifying, for messages
           typed in an editor. The phone reads bare-LF header lines too,
           but takes the body byte for byte: with --crlf a body written
           with LF line ends matches a Content-Length counted for the wire
           (CRLF) form. Remember the empty line after the headers.
  -h, --help   this text

Exit status: 0 accepted (or keep-alive), 1 rejected, 2 usage or I/O error.
";

    pub fn run() -> i32 {
        let mut crlf = false;
        let mut path: Option<String> = None;
        for arg in std::env::args().skip(1) {
            match arg.as_str() {
                "-h" | "--help" => {
                    print!("{USAGE}");
                    return 0;
                }
                "--crlf" => crlf = true,
                s if s.starts_with("--") || (s.starts_with('-') && s != "-") => {
                    eprintln!("sip-inspect: unknown option {s}\n\n{USAGE}");
                    return 2;
                }
                s => {
                    if path.is_some() {
                        eprintln!("sip-inspect: one message, one file\n\n{USAGE}");
                        return 2;
                    }
                    path = Some(s.to_string());
                }
            }
        }
        let data = match path.as_deref() {
            None | Some("-") => {
                let mut buf = Vec::new();
                match std::io::stdin().read_to_end(&mut buf) {
                    Ok(_) => buf,
                    Err(e) => {
                        eprintln!("sip-inspect: cannot read stdin: {e}");
                        return 2;
                    }
                }
            }
            Some(p) => match std::fs::read(p) {
                Ok(d) => d,
                Err(e) => {
                    eprintln!("sip-inspect: cannot read {p}: {e}");
                    return 2;
                }
            },
        };
        let data = if crlf { to_crlf(&data) } else { data };
        let (value, code) = inspect(&data);
        let mut out = std::io::stdout().lock();
        if writeln!(out, "{value}").is_err() {
            return 2;
        }
        code
    }

    /// Every LF not preceded by CR becomes CRLF.
    fn to_crlf(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() + data.len() / 16);
        let mut prev = 0u8;
        for &b in data {
            if b == b'\n' && prev != b'\r' {
                out.push(b'\r');
            }
            out.push(b);
            prev = b;
        }
        out
    }

    /// The JSON object and the exit status for one frame.
    fn inspect(data: &[u8]) -> (Value, i32) {
        match classify(data) {
            Incoming::KeepAlive => (json!({"accepted": true, "kind": "keepalive"}), 0),
            Incoming::Request(m) => (accepted(&m, "request", data), 0),
            Incoming::Response(m) => (accepted(&m, "response", data), 0),
            Incoming::Malformed { reason, reply } => {
                let reply = reply.map(|r| String::from_utf8_lossy(&r.to_bytes()).into_owned());
                (
                    json!({"accepted": false, "reason": reason, "reply": reply}),
                    1,
                )
            }
        }
    }

    fn addr(a: Option<NameAddr>) -> Value {
        match a {
            Some(a) => json!({"uri": a.uri, "tag": a.tag()}),
            None => Value::Null,
        }
    }

    fn accepted(m: &Message, kind: &str, data: &[u8]) -> Value {
        let cseq = m
            .cseq()
            .map(|c| json!({"seq": c.seq, "method": c.method.as_str()}));
        let contacts: Vec<String> = m.contacts().into_iter().map(|c| c.uri).collect();
        json!({
            "accepted": true,
            "kind": kind,
            "method": m.method().map(|x| x.as_str()),
            "status": m.code(),
            "reason_phrase": m.reason(),
            "request_uri": m.request_uri(),
            "via_branch": m.top_via().and_then(|v| v.branch().map(str::to_string)),
            "from": addr(m.from()),
            "to": addr(m.to()),
            "call_id": m.call_id(),
            "cseq": cseq,
            "contacts": contacts,
            "content_length": declared_content_length(data),
            "body_length": m.body.len(),
        })
    }

    /// The Content-Length as written (the parsed message does not keep
    /// it): the first `Content-Length` or `l` header of the header section.
    fn declared_content_length(data: &[u8]) -> Option<u64> {
        let start = data.iter().position(|b| *b != b'\r' && *b != b'\n')?;
        let lines = data.get(start..)?.split(|b| *b == b'\n');
        for line in lines.skip(1) {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                break;
            }
            let Ok(text) = std::str::from_utf8(line) else {
                continue;
            };
            if let Some((name, value)) = text.split_once(':') {
                if canonical_header_name(name) == "Content-Length" {
                    return value.trim().parse().ok();
                }
            }
        }
        None
    }
}
