//! The ticks of one `Stream` call, made one at a time as tonic polls for them.
//!
//! tonic's encoder polls the stream until it has about 32 KiB of encoded messages, hands them
//! to hyper, and is polled again only when hyper may send more: when the client stops reading
//! and the stream's HTTP/2 window is used up, nothing polls this stream, so no tick is made.
//! What a call holds is its symbol and a few counters, whatever `count` is.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use tokio_stream::Stream;
use tonic::Status;

use super::pb::Tick;
use super::{MAX_PAYLOAD, symbol_hash, tick};

const PATTERN_LEN: usize = MAX_PAYLOAD as usize + 256;

/// Byte j = j mod 256: the payload of tick `seq` is the window that starts at seq mod 256, so
/// that its byte i is (seq + i) mod 256 as the contract wants, without a copy or an
/// allocation per tick.
static PATTERN: [u8; PATTERN_LEN] = pattern();

const fn pattern() -> [u8; PATTERN_LEN] {
    let mut p = [0u8; PATTERN_LEN];
    let mut j = 0;
    while j < PATTERN_LEN {
        p[j] = j as u8;
        j += 1;
    }
    p
}

/// The payload of tick `seq`: `len` bytes (at most `MAX_PAYLOAD`), byte i = (seq + i) mod 256.
pub fn payload(seq: u64, len: usize) -> Bytes {
    let at = (seq % 256) as usize;
    Bytes::from_static(&PATTERN[at..at + len])
}

/// Ticks `1..=count` of a symbol, then the end (status 0); or, once the call's deadline has
/// passed, DEADLINE_EXCEEDED in place of the next tick, and nothing after it.
///
/// The deadline is looked at before each tick is made. A stream held by flow control is not
/// polled, so its status goes out when the client reads again (or resets the stream).
#[derive(Debug)]
pub struct TickStream {
    symbol: String,
    hash: u64,
    next: u64,
    count: u64,
    payload_bytes: usize,
    deadline: Option<Instant>,
}

impl TickStream {
    /// The stream of a request whose fields have been checked (`super::check_stream`).
    pub fn new(symbol: String, count: u32, payload_bytes: u32, deadline: Option<Instant>) -> Self {
        debug_assert!(payload_bytes <= MAX_PAYLOAD);
        TickStream {
            hash: symbol_hash(symbol.as_bytes()),
            symbol,
            next: 1,
            count: u64::from(count),
            payload_bytes: payload_bytes as usize,
            deadline,
        }
    }
}

impl Stream for TickStream {
    type Item = Result<Tick, Status>;

    fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.next > this.count {
            return Poll::Ready(None);
        }
        if this.deadline.is_some_and(|d| Instant::now() >= d) {
            this.next = this.count + 1;
            return Poll::Ready(Some(Err(Status::deadline_exceeded("deadline exceeded"))));
        }
        let seq = this.next;
        this.next += 1;
        let payload = payload(seq, this.payload_bytes);
        Poll::Ready(Some(Ok(tick(&this.symbol, this.hash, seq, payload))))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = (self.count + 1 - self.next) as usize;
        (0, Some(left))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio_stream::StreamExt;

    #[test]
    fn payload_byte_i_is_seq_plus_i_mod_256() {
        for seq in [0, 1, 255, 256, 257, 1_000_000] {
            for len in [0, 1, 100, MAX_PAYLOAD as usize] {
                let p = payload(seq, len);
                assert_eq!(p.len(), len);
                assert!(
                    p.iter()
                        .enumerate()
                        .all(|(i, &b)| b == ((seq + i as u64) % 256) as u8),
                    "seq {seq} len {len}"
                );
            }
        }
    }

    #[tokio::test]
    async fn ticks_1_to_count_then_the_end() {
        let ticks: Vec<_> = TickStream::new("MSFT".into(), 3, 2, None).collect().await;
        let seqs: Vec<_> = ticks.iter().map(|t| t.as_ref().unwrap().seq).collect();
        assert_eq!(seqs, [1, 2, 3]);
        let first = ticks[0].as_ref().unwrap();
        assert_eq!(
            (
                first.symbol.as_str(),
                first.price_micros,
                &first.payload[..]
            ),
            ("MSFT", 431_584_221, &[1u8, 2][..])
        );
        assert!(first.ts_ns > 0);
    }

    #[tokio::test]
    async fn past_the_deadline_one_status_and_nothing_after_it() {
        let past = Instant::now() - Duration::from_millis(1);
        let mut stream = TickStream::new("AAPL".into(), 1000, 0, Some(past));
        let status = stream.next().await.unwrap().unwrap_err();
        assert_eq!(status.code(), tonic::Code::DeadlineExceeded);
        assert!(stream.next().await.is_none());
    }
}
