/* contract: a workload's contract as data. Each case is a small text file
 * (contracts/WORKLOAD/NN-name.case) that scripts one connection:
 *
 *   # what the case checks
 *   send: POST /echo HTTP/1.1\r\nContent-Length: {len}\r\n\r\n{"a": 1}
 *   expect: 200                        status of the next answer (or "none": no answer)
 *   header: Content-Type: application/json   exact value, name case-insensitive
 *   body: {"a":1}                      exact body
 *   body-has: "error":"invalid_json"   the body contains this (repeatable)
 *   head-only: yes                     the answer has no body whatever its headers say (HEAD)
 *   pause: 50ms                        wait before the next step
 *   shutdown: write                    half-close the connection
 *   closed: yes                        the server closes the connection now
 *   differs: go net/http accepts it    an implementation known to answer otherwise, and why
 *                                      (its library's choice; repeatable, one per language)
 *
 * Values take C escapes (\r \n \t \\ \xHH); in send lines {repeat:N:TEXT} expands to N copies
 * of TEXT and {len} to the length of what follows the first empty line (the body). The cases
 * of every workload are compiled into the binary; --cases DIR reads others instead. */
#ifndef SB_LAB_CONTRACT_H
#define SB_LAB_CONTRACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { STEP_SEND, STEP_PAUSE, STEP_SHUTDOWN, STEP_EXPECT, STEP_CLOSED } contract_step_kind_t;

#define CONTRACT_MAX_CHECKS 8

typedef struct {
    contract_step_kind_t kind;
    char *data;                 /* send: the bytes */
    size_t len;
    int64_t pause_ns;
    int status;                 /* expect: status, or 0 for "none" */
    bool head_only;
    int nheaders;
    char *header_name[CONTRACT_MAX_CHECKS], *header_value[CONTRACT_MAX_CHECKS];
    bool has_body;
    char *body;
    size_t body_len;
    int nbody_has;
    char *body_has[CONTRACT_MAX_CHECKS];
} contract_step_t;

typedef struct {
    char *name;                 /* file name without .case */
    char *comment;              /* its first comment line */
    contract_step_t *steps;
    int nsteps;
    int ndiffers;               /* differs: lines */
    char *differs_lang[CONTRACT_MAX_CHECKS], *differs_why[CONTRACT_MAX_CHECKS];
} contract_case_t;

/* Why lang is known to answer c otherwise, or NULL. */
const char *contract_differs(const contract_case_t *c, const char *lang);

typedef struct {
    contract_case_t *cases;
    int ncases;
} contract_t;

/* Parses one case. 0, or -1 with "line N: why" in err. */
int contract_parse_case(const char *name, const char *text, size_t len, contract_case_t *out,
                        char *err, size_t errlen);
/* All *.case files of a folder, sorted by name. */
int contract_load_dir(const char *dir, contract_t *out, char *err, size_t errlen);
/* The cases compiled into the binary for a workload (core/embed.h). */
int contract_load_builtin(const char *workload, contract_t *out, char *err, size_t errlen);
void contract_free(contract_t *c);

#endif
