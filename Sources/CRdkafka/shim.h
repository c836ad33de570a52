#include <librdkafka/rdkafka.h>

// Macros with casts that Swift does not import, as plain constants.
static const int64_t crdkafka_offset_beginning = RD_KAFKA_OFFSET_BEGINNING;
static const int64_t crdkafka_offset_end = RD_KAFKA_OFFSET_END;
static const int crdkafka_msg_f_copy = RD_KAFKA_MSG_F_COPY;
static const int crdkafka_event_dr = RD_KAFKA_EVENT_DR;
static const int crdkafka_event_log = RD_KAFKA_EVENT_LOG;
static const int crdkafka_event_error = RD_KAFKA_EVENT_ERROR;
static const int crdkafka_purge_queue_and_inflight = RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT;
