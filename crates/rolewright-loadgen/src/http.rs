//! A minimal HTTP/1.1 keep-alive client connection: one request in flight, responses framed by
//! `Content-Length`, chunked encoding or end of stream.
//!
//! It is hand-written rather than built on hyper because the generator shares two cores with the
//! server it measures: each request is one prepared buffer and one `write`, and each response is
//! read into a buffer that is reused, so the client spends as little CPU per request as possible.

use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Largest response head accepted before the connection is declared broken.
const MAX_HEAD: usize = 64 * 1024;
/// Largest response body accepted.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// A response as seen by the generator: the status and the body bytes (borrowed from the
/// connection's buffer until the next request).
#[derive(Debug)]
pub struct Response<'a> {
    /// The HTTP status code.
    pub status: u16,
    /// The (de-chunked) body.
    pub body: &'a [u8],
}

/// One keep-alive connection, re-opened transparently after the server closes it.
#[derive(Debug)]
pub struct Connection {
    addr: SocketAddr,
    stream: Option<TcpStream>,
    /// Bytes read from the socket; `buf[..filled]` is valid.
    buf: Vec<u8>,
    filled: usize,
    /// The de-chunked body when the response was chunked.
    body: Vec<u8>,
}

/// How the body of a response is delimited.
enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

impl Connection {
    /// A connection to `addr`; the socket is opened on the first request.
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            stream: None,
            buf: vec![0; 16 * 1024],
            filled: 0,
            body: Vec::new(),
        }
    }

    /// Sends one complete request (head and body, already serialized) and reads its response.
    ///
    /// On any error the socket is dropped, so the next call starts on a fresh connection.
    pub async fn round_trip(&mut self, request: &[u8]) -> io::Result<Response<'_>> {
        match self.exchange(request).await {
            Ok((status, range, close, chunked)) => {
                if close {
                    self.stream = None;
                }
                let body = if chunked {
                    &self.body[..]
                } else {
                    &self.buf[range.0..range.1]
                };
                Ok(Response { status, body })
            }
            Err(e) => {
                self.stream = None;
                Err(e)
            }
        }
    }

    /// Returns the status, the body's range in `buf` (unless chunked), whether the server asked
    /// to close, and whether the body is in `self.body` instead.
    async fn exchange(&mut self, request: &[u8]) -> io::Result<(u16, (usize, usize), bool, bool)> {
        let stream = match &mut self.stream {
            Some(s) => s,
            None => {
                let s = TcpStream::connect(self.addr).await?;
                s.set_nodelay(true)?;
                self.stream.insert(s)
            }
        };
        stream.write_all(request).await?;
        self.filled = 0;

        // Read until the end of the head.
        let head_end = loop {
            if let Some(pos) = find(&self.buf[..self.filled], b"\r\n\r\n") {
                break pos + 4;
            }
            if self.filled >= MAX_HEAD {
                return Err(invalid("response head larger than 64 KiB"));
            }
            read_more(stream, &mut self.buf, &mut self.filled).await?;
        };
        let head = &self.buf[..head_end];
        let (status, framing, close) = parse_head(head)?;

        match framing {
            Framing::Length(len) => {
                if len > MAX_BODY {
                    return Err(invalid("response body larger than 16 MiB"));
                }
                let end = head_end + len;
                if self.buf.len() < end {
                    self.buf.resize(end, 0);
                }
                while self.filled < end {
                    read_more(stream, &mut self.buf, &mut self.filled).await?;
                }
                Ok((status, (head_end, end), close, false))
            }
            Framing::UntilClose => {
                loop {
                    if self.filled > head_end + MAX_BODY {
                        return Err(invalid("response body larger than 16 MiB"));
                    }
                    if self.filled == self.buf.len() {
                        self.buf.resize(self.buf.len() * 2, 0);
                    }
                    let n = stream.read(&mut self.buf[self.filled..]).await?;
                    if n == 0 {
                        break;
                    }
                    self.filled += n;
                }
                Ok((status, (head_end, self.filled), true, false))
            }
            Framing::Chunked => {
                self.body.clear();
                let mut pos = head_end;
                loop {
                    let line_end = loop {
                        if let Some(i) = find(&self.buf[pos..self.filled], b"\r\n") {
                            break pos + i;
                        }
                        read_more(stream, &mut self.buf, &mut self.filled).await?;
                    };
                    let size_text = std::str::from_utf8(&self.buf[pos..line_end])
                        .map_err(|_| invalid("bad chunk size"))?;
                    let size_text = size_text.split(';').next().unwrap_or("").trim();
                    let size = usize::from_str_radix(size_text, 16)
                        .map_err(|_| invalid("bad chunk size"))?;
                    pos = line_end + 2;
                    if size == 0 {
                        // Skip trailers up to the final empty line.
                        loop {
                            if let Some(i) = find(&self.buf[pos..self.filled], b"\r\n") {
                                pos += i + 2;
                                if i == 0 {
                                    break;
                                }
                                continue;
                            }
                            read_more(stream, &mut self.buf, &mut self.filled).await?;
                        }
                        break;
                    }
                    if self.body.len() + size > MAX_BODY {
                        return Err(invalid("response body larger than 16 MiB"));
                    }
                    let end = pos + size + 2;
                    if self.buf.len() < end {
                        self.buf.resize(end, 0);
                    }
                    while self.filled < end {
                        read_more(stream, &mut self.buf, &mut self.filled).await?;
                    }
                    self.body.extend_from_slice(&self.buf[pos..pos + size]);
                    pos = end;
                }
                Ok((status, (0, 0), close, true))
            }
        }
    }
}

/// Reads at least one more byte into `buf[*filled..]`, growing `buf` when it is full.
async fn read_more(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    filled: &mut usize,
) -> io::Result<()> {
    if *filled == buf.len() {
        buf.resize(buf.len() * 2, 0);
    }
    let n = stream.read(&mut buf[*filled..]).await?;
    if n == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "server closed the connection before the response was complete",
        ));
    }
    *filled += n;
    Ok(())
}

/// Parses the status line and the framing headers of a response head.
fn parse_head(head: &[u8]) -> io::Result<(u16, Framing, bool)> {
    let text = std::str::from_utf8(head).map_err(|_| invalid("response head is not UTF-8"))?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let status: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| invalid("bad status line"))?;
    if !version.starts_with("HTTP/1.") {
        return Err(invalid("not an HTTP/1.x response"));
    }
    let mut close = version == "HTTP/1.0";
    let mut length = None;
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse().map_err(|_| invalid("bad content-length"))?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        } else if name.eq_ignore_ascii_case("connection") {
            let value = value.to_ascii_lowercase();
            if value.contains("close") {
                close = true;
            } else if value.contains("keep-alive") {
                close = false;
            }
        }
    }
    let framing = if chunked {
        Framing::Chunked
    } else if let Some(len) = length {
        Framing::Length(len)
    } else if status == 204 || status == 304 || (100..200).contains(&status) {
        Framing::Length(0)
    } else {
        close = true;
        Framing::UntilClose
    };
    Ok((status, framing, close))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn invalid(message: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// Serves each canned response once per request read, on one accepted connection.
    async fn serve(responses: Vec<&'static [u8]>) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            for r in responses {
                let _ = s.read(&mut buf).await.unwrap();
                s.write_all(r).await.unwrap();
            }
        });
        addr
    }

    #[tokio::test]
    async fn reads_length_and_chunked_bodies_on_one_connection() {
        let addr = serve(vec![
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
        ])
        .await;
        let mut c = Connection::new(addr);
        let r = c.round_trip(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        assert_eq!((r.status, r.body), (200, &b"hello"[..]));
        let r = c.round_trip(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        assert_eq!((r.status, r.body), (404, &b"abcde"[..]));
        let r = c.round_trip(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        assert_eq!((r.status, r.body), (200, &b""[..]));
    }

    #[tokio::test]
    async fn reads_until_close_without_length() {
        let addr = serve(vec![b"HTTP/1.0 500 Oops\r\n\r\nboom"]).await;
        let mut c = Connection::new(addr);
        let r = c.round_trip(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        assert_eq!((r.status, r.body), (500, &b"boom"[..]));
        assert!(c.stream.is_none());
    }

    #[tokio::test]
    async fn truncated_response_is_an_error() {
        let addr = serve(vec![b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"]).await;
        let mut c = Connection::new(addr);
        let e = c.round_trip(b"GET / HTTP/1.1\r\n\r\n").await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
    }
}
