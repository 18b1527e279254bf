/* pq: libpq, loaded when it is first used.
 *
 * Only the sql service and the lab's PostgreSQL need the PostgreSQL client library, and linking
 * it would load it, and OpenSSL, GnuTLS, Kerberos and LDAP behind it, into every process:
 * about 5 MiB of resident memory (measured with /proc/PID/smaps: 7.6 MiB for
 * `stackbench serve echo` linked with -lpq, 2.3 MiB without) that would be charged to the
 * echo and csv services in the lab's memory column. So libpq.so.5 is opened with dlopen on the
 * first call of any PQ function, through the macros below: code that includes this header
 * instead of <libpq-fe.h> calls libpq as usual. If libpq cannot be loaded, the process says so
 * on stderr and exits 1 (scripts/install.sh installs it). */
#ifndef SB_CORE_PQ_H
#define SB_CORE_PQ_H

#include <libpq-fe.h>

/* The libpq functions stackbench uses. */
#define SB_PQ_FUNCS(X) \
    X(PQfinish) \
    X(PQerrorMessage) \
    X(PQclear) \
    X(PQgetvalue) \
    X(PQstatus) \
    X(PQresultStatus) \
    X(PQconnectdb) \
    X(PQresultErrorMessage) \
    X(PQntuples) \
    X(PQexec) \
    X(PQserverVersion) \
    X(PQsocket) \
    X(PQsetnonblocking) \
    X(PQsetNoticeProcessor) \
    X(PQping) \
    X(PQisBusy) \
    X(PQgetlength) \
    X(PQflush) \
    X(PQenterPipelineMode) \
    X(PQdb) \
    X(PQconsumeInput) \
    X(PQconnectdbParams) \
    X(PQconnectStart) \
    X(PQconnectPoll) \
    X(PQsendQueryPrepared) \
    X(PQsendPrepare) \
    X(PQresultErrorField) \
    X(PQprepare) \
    X(PQport) \
    X(PQpipelineSync) \
    X(PQpingParams) \
    X(PQgetResult) \
    X(PQfreemem) \
    X(PQconninfoParse) \
    X(PQconninfoFree) \
    X(PQcmdStatus)

typedef struct {
#define SB_PQ_FIELD(f) __typeof__(&f) f;
    SB_PQ_FUNCS(SB_PQ_FIELD)
#undef SB_PQ_FIELD
} pq_api_t;

/* The loaded functions (loaded on the first call, thread-safe). */
const pq_api_t *pq_api(void);

#ifndef SB_PQ_IMPL
#define PQfinish (pq_api()->PQfinish)
#define PQerrorMessage (pq_api()->PQerrorMessage)
#define PQclear (pq_api()->PQclear)
#define PQgetvalue (pq_api()->PQgetvalue)
#define PQstatus (pq_api()->PQstatus)
#define PQresultStatus (pq_api()->PQresultStatus)
#define PQconnectdb (pq_api()->PQconnectdb)
#define PQresultErrorMessage (pq_api()->PQresultErrorMessage)
#define PQntuples (pq_api()->PQntuples)
#define PQexec (pq_api()->PQexec)
#define PQserverVersion (pq_api()->PQserverVersion)
#define PQsocket (pq_api()->PQsocket)
#define PQsetnonblocking (pq_api()->PQsetnonblocking)
#define PQsetNoticeProcessor (pq_api()->PQsetNoticeProcessor)
#define PQping (pq_api()->PQping)
#define PQisBusy (pq_api()->PQisBusy)
#define PQgetlength (pq_api()->PQgetlength)
#define PQflush (pq_api()->PQflush)
#define PQenterPipelineMode (pq_api()->PQenterPipelineMode)
#define PQdb (pq_api()->PQdb)
#define PQconsumeInput (pq_api()->PQconsumeInput)
#define PQconnectdbParams (pq_api()->PQconnectdbParams)
#define PQconnectStart (pq_api()->PQconnectStart)
#define PQconnectPoll (pq_api()->PQconnectPoll)
#define PQsendQueryPrepared (pq_api()->PQsendQueryPrepared)
#define PQsendPrepare (pq_api()->PQsendPrepare)
#define PQresultErrorField (pq_api()->PQresultErrorField)
#define PQprepare (pq_api()->PQprepare)
#define PQport (pq_api()->PQport)
#define PQpipelineSync (pq_api()->PQpipelineSync)
#define PQpingParams (pq_api()->PQpingParams)
#define PQgetResult (pq_api()->PQgetResult)
#define PQfreemem (pq_api()->PQfreemem)
#define PQconninfoParse (pq_api()->PQconninfoParse)
#define PQconninfoFree (pq_api()->PQconninfoFree)
#define PQcmdStatus (pq_api()->PQcmdStatus)
#endif

#endif
