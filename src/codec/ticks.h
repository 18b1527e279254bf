/* ticks: the grpc workload's arithmetic (contracts/grpc.md), for the service that makes the
 * ticks and for whoever checks them: price(symbol, seq), the payload pattern, the fields'
 * limits. */
#ifndef SB_CODEC_TICKS_H
#define SB_CODEC_TICKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TICKS_SYMBOL_MAX 12
#define TICKS_COUNT_MAX 1000000u
#define TICKS_PAYLOAD_MAX 65536u

/* FNV-1a 64 of the symbol: what price() starts from (compute it once per call). */
uint64_t ticks_symbol_hash(const char *symbol, size_t n);
/* price(symbol, seq) in micros, from the symbol's hash. */
int64_t ticks_price(uint64_t symbol_hash, uint64_t seq);
/* 1 to 12 bytes of [A-Z0-9.]. */
bool ticks_symbol_ok(const char *symbol, size_t n);
/* The payload of message seq, n bytes (n <= TICKS_PAYLOAD_MAX): byte i = (seq + i) mod 256,
 * as a window into one pattern (no copy). */
const uint8_t *ticks_payload(uint64_t seq);
/* Whether p holds the payload of message seq (n bytes). */
bool ticks_payload_ok(const uint8_t *p, size_t n, uint64_t seq);

/* The value of length-delimited field `field` in a protobuf message, the last one when it
 * occurs more than once (as protobuf reads it): *p, *n (n 0 when absent). -1 when the message
 * is malformed. Used where the length matters: protobuf-c hands strings over NUL-terminated,
 * which hides a NUL inside them. */
int ticks_bytes_field(const uint8_t *msg, size_t len, unsigned field, const uint8_t **p,
                      size_t *n);
/* Whether msg is the Tick the contract says for symbol (its hash from ticks_symbol_hash), seq
 * and payload_bytes: every field checked, ts_ns not 0, unknown fields skipped. Read straight
 * from the wire: the load engine checks every message at up to millions a second, and
 * protobuf-c's unpack allocates the message and its strings each time. */
bool ticks_tick_ok(const uint8_t *msg, size_t len, const char *symbol, size_t symlen,
                   uint64_t hash, uint64_t seq, size_t payload_bytes);

#endif
