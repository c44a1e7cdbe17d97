//! JSON-RPC over a byte stream with `Content-Length` framing.
//!
//! lsp-server's own stdio transport gives up on the first malformed
//! payload (its reader thread returns an error and the connection closes),
//! and a language server must survive whatever an editor or a fuzzer sends.
//! So the framing is read here, defensively, and only well-formed bodies
//! become `lsp_server::Message`s; everything else becomes an
//! [`Incoming::Invalid`] that the server answers with a JSON-RPC error.

use crossbeam_channel::{Receiver, Sender};
use lsp_server::{ErrorCode, Message};
use serde_json::Value;
use std::io::{self, BufRead, Read, Write};

/// Longest header line read; longer ones are malformed.
const MAX_HEADER_LINE: u64 = 8 * 1024;
/// Largest body accepted; larger ones are skipped unread.
const MAX_BODY: usize = 256 * 1024 * 1024;

pub enum Incoming {
    Message(Message),
    /// A frame that is not a JSON-RPC message: answered with `code`, with
    /// the request's id when one could be read, else `null`.
    Invalid {
        id: Option<Value>,
        code: ErrorCode,
        message: String,
    },
}

pub enum Outgoing {
    Message(Message),
    /// An error response whose id is not a valid request id (e.g. `null`
    /// for an unparsable message).
    Error {
        id: Value,
        code: ErrorCode,
        message: String,
    },
}

/// Read frames from `input` until end of input, sending each to `tx`. The
/// channel closes at end of input (or when the receiver is gone).
pub fn spawn_reader(
    mut input: impl BufRead + Send + 'static,
    tx: Sender<Incoming>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || loop {
        let incoming = match read_frame(&mut input) {
            Ok(Frame::Eof) | Err(_) => return,
            Ok(Frame::Body(body)) => parse(&body),
            Ok(Frame::Malformed(why)) => Incoming::Invalid {
                id: None,
                code: ErrorCode::ParseError,
                message: why,
            },
        };
        if tx.send(incoming).is_err() {
            return;
        }
    })
}

/// Write every message sent to the returned channel to `output`.
pub fn spawn_writer(
    mut output: impl Write + Send + 'static,
) -> (Sender<Outgoing>, std::thread::JoinHandle<()>) {
    let (tx, rx): (Sender<Outgoing>, Receiver<Outgoing>) = crossbeam_channel::unbounded();
    let handle = std::thread::spawn(move || {
        for out in rx {
            let written = match out {
                Outgoing::Message(m) => m.write(&mut output),
                Outgoing::Error { id, code, message } => {
                    let body = serde_json::json!({
                        "jsonrpc": "2.0",
                        "id": id,
                        "error": {"code": code as i32, "message": message},
                    })
                    .to_string();
                    write!(output, "Content-Length: {}\r\n\r\n{body}", body.len())
                        .and_then(|()| output.flush())
                }
            };
            if written.is_err() {
                return;
            }
        }
    });
    (tx, handle)
}

enum Frame {
    Body(Vec<u8>),
    Malformed(String),
    Eof,
}

/// One header block and its body. A malformed header block is consumed up
/// to its blank line; a body of an impossible size is skipped.
fn read_frame(r: &mut impl BufRead) -> io::Result<Frame> {
    let mut length: Option<Result<usize, String>> = None;
    let mut problem: Option<String> = None;
    let mut seen_any = false;
    loop {
        let mut line = Vec::new();
        let n = r
            .by_ref()
            .take(MAX_HEADER_LINE)
            .read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(if seen_any {
                Frame::Malformed("end of input inside a header".into())
            } else {
                Frame::Eof
            });
        }
        seen_any = true;
        if !line.ends_with(b"\n") {
            problem.get_or_insert_with(|| "header line too long".into());
            continue;
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            break;
        }
        match text.split_once(':') {
            Some((name, value)) if name.trim().eq_ignore_ascii_case("content-length") => {
                length = Some(
                    value
                        .trim()
                        .parse::<usize>()
                        .map_err(|e| format!("bad Content-Length `{}`: {e}", value.trim())),
                );
            }
            Some(_) => {}
            None => {
                problem.get_or_insert_with(|| format!("malformed header line `{text}`"));
            }
        }
    }
    let length = match (length, problem) {
        (_, Some(p)) => return Ok(Frame::Malformed(p)),
        (None, None) => return Ok(Frame::Malformed("no Content-Length header".into())),
        (Some(Err(e)), None) => return Ok(Frame::Malformed(e)),
        (Some(Ok(n)), None) => n,
    };
    if length > MAX_BODY {
        io::copy(&mut r.by_ref().take(length as u64), &mut io::sink())?;
        return Ok(Frame::Malformed(format!(
            "message of {length} bytes is too large"
        )));
    }
    let mut body = Vec::new();
    r.by_ref().take(length as u64).read_to_end(&mut body)?;
    if body.len() < length {
        return Ok(Frame::Malformed("end of input inside a message".into()));
    }
    Ok(Frame::Body(body))
}

fn parse(body: &[u8]) -> Incoming {
    let value: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return Incoming::Invalid {
                id: None,
                code: ErrorCode::ParseError,
                message: format!("invalid JSON: {e}"),
            }
        }
    };
    let id = value.get("id").cloned();
    match serde_json::from_value::<Message>(value) {
        Ok(m) => Incoming::Message(m),
        Err(e) => Incoming::Invalid {
            id,
            code: ErrorCode::InvalidRequest,
            message: format!("not a JSON-RPC message: {e}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &[u8]) -> Vec<String> {
        let mut r = io::Cursor::new(input.to_vec());
        let mut out = Vec::new();
        loop {
            match read_frame(&mut r).unwrap() {
                Frame::Eof => return out,
                Frame::Body(b) => out.push(String::from_utf8(b).unwrap()),
                Frame::Malformed(m) => out.push(format!("malformed: {m}")),
            }
        }
    }

    #[test]
    fn framing_survives_bad_headers() {
        let got = frames(
            b"Content-Length: 2\r\n\r\n{}garbage\r\n\r\nContent-Length: x\r\n\r\n\
              content-length:3\nContent-Type: a\n\n[1]",
        );
        assert_eq!(
            got,
            [
                "{}",
                "malformed: malformed header line `garbage`",
                "malformed: bad Content-Length `x`: invalid digit found in string",
                "[1]",
            ]
        );
        assert_eq!(
            frames(b"Content-Length: 10\r\n\r\n{}"),
            ["malformed: end of input inside a message"]
        );
    }

    #[test]
    fn bodies_that_are_not_messages_keep_their_id() {
        match parse(br#"{"jsonrpc":"2.0","id":7,"method":5}"#) {
            Incoming::Invalid { id, code, .. } => {
                assert_eq!(id, Some(Value::from(7)));
                assert_eq!(code as i32, ErrorCode::InvalidRequest as i32);
            }
            Incoming::Message(m) => panic!("parsed {m:?}"),
        }
        assert!(matches!(
            parse(b"{not json"),
            Incoming::Invalid {
                id: None,
                code: ErrorCode::ParseError,
                ..
            }
        ));
    }
}
