//! A trivial HTTP/1.1 keep-alive server that answers every request with a fixed 200 and a
//! GetRole-sized XML body, without parsing or verifying anything. It measures the ceiling of
//! `rolewright-loadgen` itself: run it, point the generator at it, and the throughput seen is
//! what the generator (plus this minimal server) can do on the machine.
//!
//! `cargo run --release -p rolewright-loadgen --example trivial_server -- 127.0.0.1:0 [THREADS]`

use std::io;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let listen = args.next().unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let threads: usize = args.next().and_then(|t| t.parse().ok()).unwrap_or(1);
    let runtime = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()?
    };
    runtime.block_on(async move {
        let listener = TcpListener::bind(&listen).await?;
        println!("listening on http://{}", listener.local_addr()?);
        loop {
            let (stream, _) = listener.accept().await?;
            tokio::spawn(async move {
                // A connection error only ends that connection.
                let _ = serve(stream).await;
            });
        }
    })
}

async fn serve(mut stream: TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let body = format!("<GetRoleResponse>{}</GetRoleResponse>", "x".repeat(750));
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut buf = vec![0u8; 64 * 1024];
    let mut filled = 0;
    loop {
        // Wait for a whole request: head, then Content-Length bytes of body.
        let end = loop {
            if let Some(end) = request_end(&buf[..filled])
                && filled >= end
            {
                break end;
            }
            if filled == buf.len() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "request too large",
                ));
            }
            let n = stream.read(&mut buf[filled..]).await?;
            if n == 0 {
                return Ok(());
            }
            filled += n;
        };
        stream.write_all(response.as_bytes()).await?;
        buf.copy_within(end..filled, 0);
        filled -= end;
    }
}

/// The total length of the first request in `data` once its head is complete.
fn request_end(data: &[u8]) -> Option<usize> {
    let head_end = data.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&data[..head_end]).ok()?;
    let length = head
        .split("\r\n")
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok())
        .unwrap_or(0);
    Some(head_end + length)
}
