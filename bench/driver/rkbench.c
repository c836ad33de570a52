/*
 * rkbench: a small load driver over librdkafka for `make bench`.
 *
 *   rkbench produce --brokers B --topic T --records N --size S [--acks 1|all]
 *                   [--linger-ms 5] [--batch-bytes 1048576] [--rate R] [--warmup-s W] [--queue-kbytes 65536]
 *                   [--stats-file PATH]
 *   rkbench consume --brokers B --topic T [--records EXPECTED] [--timeout-s 300]
 *   rkbench create  --brokers B --topic T --partitions P [--config KEY=VALUE ...]
 *   rkbench delete  --brokers B --topic T
 *
 * Each mode prints one JSON object on stdout; diagnostics go to stderr; exit 0 only on success.
 *
 * Latency: every record carries its intended send time as the delivery opaque. At max rate the
 * intended time is the first produce attempt; at a fixed rate (--rate records/s) it is
 * start + i / rate, whatever the driver managed, so a stall is charged to every record it delays
 * (no coordinated omission). Latency = delivery report time - intended time. --warmup-s leaves the
 * records meant for the first W seconds out of the histogram (connections and new segments settle).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>

#define CONFIGS_MAX 16
#define PACE_STEP_NS 200000

typedef struct {
    const char *mode;
    const char *brokers;
    const char *topic;
    int64_t records;
    int64_t size_bytes;
    const char *acks;
    int linger_ms;
    int64_t batch_bytes;
    double rate_per_s; /* 0 = as fast as possible */
    double warmup_s;   /* leading seconds left out of the latency histogram */
    int64_t queue_kbytes;
    const char *stats_file; /* produce: librdkafka's statistics JSON, one line per second */
    int partitions;
    int timeout_s;
    const char *configs[CONFIGS_MAX];
    int config_count;
} options_t;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static double cpu_seconds(double *user_s, double *sys_s) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    *user_s = usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6;
    *sys_s = usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
    return *user_s + *sys_s;
}

/* ---- Histogram: log buckets with 64 linear sub-buckets per power of two (≈1.6 % resolution). ---- */

#define HIST_LINEAR 128          /* values below this (µs) are counted exactly */
#define HIST_SUB 64              /* sub-buckets per power of two above that */
#define HIST_EXPONENTS 40        /* up to 2^46 µs, far beyond any run */
#define HIST_BUCKETS (HIST_LINEAR + HIST_EXPONENTS * HIST_SUB)

typedef struct {
    uint64_t counts[HIST_BUCKETS];
    uint64_t total;
    uint64_t max_us;
    double sum_us;
} histogram_t;

static int hist_index(uint64_t us) {
    if (us < HIST_LINEAR) return (int)us;
    int exponent = 63 - __builtin_clzll(us); /* >= 7 */
    int shift = exponent - 6;                /* keep the top 7 bits: mantissa in [64, 128) */
    int index = HIST_LINEAR + (exponent - 7) * HIST_SUB + (int)((us >> shift) - HIST_SUB);
    return index < HIST_BUCKETS ? index : HIST_BUCKETS - 1;
}

/* The lowest value counted in a bucket. */
static uint64_t hist_lower_us(int index) {
    if (index < HIST_LINEAR) return (uint64_t)index;
    int exponent = (index - HIST_LINEAR) / HIST_SUB + 7;
    uint64_t mantissa = (uint64_t)((index - HIST_LINEAR) % HIST_SUB + HIST_SUB);
    return mantissa << (exponent - 6);
}

static void hist_record(histogram_t *h, int64_t latency_ns) {
    uint64_t us = latency_ns > 0 ? (uint64_t)(latency_ns / 1000) : 0;
    h->counts[hist_index(us)]++;
    h->total++;
    h->sum_us += (double)us;
    if (us > h->max_us) h->max_us = us;
}

static double hist_percentile_ms(const histogram_t *h, double percentile) {
    if (h->total == 0) return 0;
    uint64_t rank = (uint64_t)ceil(percentile / 100.0 * (double)h->total);
    if (rank == 0) rank = 1;
    uint64_t seen = 0;
    for (int i = 0; i < HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            /* The bucket's highest value, as HdrHistogram reports: never below the true percentile. */
            uint64_t highest_us = i + 1 < HIST_BUCKETS ? hist_lower_us(i + 1) - 1 : h->max_us;
            return (highest_us < h->max_us ? highest_us : h->max_us) / 1000.0;
        }
    }
    return h->max_us / 1000.0;
}

/* ---- Produce ---- */

typedef struct {
    histogram_t hist;
    /* How late the driver itself called produce (part of `hist`): the client side's share of the tail. */
    histogram_t lateness;
    int64_t delivered;
    int64_t delivered_bytes;
    int64_t failed;
    int64_t last_delivery_ns;
    int64_t warmup_end_ns; /* records meant to be sent before this are delivered but not in the histogram */
    rd_kafka_resp_err_t first_error;
} produce_state_t;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *message, void *opaque) {
    (void)rk;
    produce_state_t *state = opaque;
    int64_t now = now_ns();
    state->last_delivery_ns = now;
    if (message->err) {
        if (state->failed == 0) state->first_error = message->err;
        state->failed++;
        return;
    }
    int64_t intended_ns = (int64_t)(intptr_t)message->_private;
    if (intended_ns >= state->warmup_end_ns) hist_record(&state->hist, now - intended_ns);
    state->delivered++;
    state->delivered_bytes += (int64_t)message->len;
}

static int set_conf(rd_kafka_conf_t *conf, const char *key, const char *value) {
    char error[512];
    if (rd_kafka_conf_set(conf, key, value, error, sizeof error) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "rkbench: %s=%s: %s\n", key, value, error);
        return -1;
    }
    return 0;
}

static int set_conf_int(rd_kafka_conf_t *conf, const char *key, int64_t value) {
    char text[32];
    snprintf(text, sizeof text, "%" PRId64, value);
    return set_conf(conf, key, text);
}

static rd_kafka_t *new_client(rd_kafka_type_t type, rd_kafka_conf_t *conf) {
    char error[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf, error, sizeof error);
    if (!rk) fprintf(stderr, "rkbench: cannot create the client: %s\n", error);
    return rk;
}

static FILE *stats_out;

/* librdkafka's statistics: per-broker rtt and int/outbuf latency split a record's latency between the
 * client's queues and the request's round trip. */
static int on_stats(rd_kafka_t *rk, char *json, size_t json_len, void *opaque) {
    (void)rk;
    (void)opaque;
    fwrite(json, 1, json_len, stats_out);
    fputc('\n', stats_out);
    return 0;
}

static int run_produce(const options_t *o) {
    if (o->records <= 0 || o->size_bytes <= 0) {
        fprintf(stderr, "rkbench: produce needs --records > 0 and --size > 0\n");
        return 2;
    }
    static produce_state_t state;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (set_conf(conf, "bootstrap.servers", o->brokers) || set_conf(conf, "acks", o->acks) ||
        set_conf_int(conf, "linger.ms", o->linger_ms) || set_conf_int(conf, "batch.size", o->batch_bytes) ||
        set_conf_int(conf, "batch.num.messages", 1000000) ||
        set_conf_int(conf, "message.max.bytes", 16 * 1048576) ||
        set_conf_int(conf, "queue.buffering.max.kbytes", o->queue_kbytes) ||
        set_conf_int(conf, "queue.buffering.max.messages", 10000000) ||
        set_conf(conf, "compression.type", "none") || set_conf(conf, "enable.idempotence", "false") ||
        set_conf_int(conf, "message.timeout.ms", 300000)) {
        return 2;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, &state);
    if (o->stats_file) {
        stats_out = fopen(o->stats_file, "w");
        if (!stats_out || set_conf_int(conf, "statistics.interval.ms", 1000)) {
            fprintf(stderr, "rkbench: cannot write statistics to %s\n", o->stats_file);
            return 2;
        }
        rd_kafka_conf_set_stats_cb(conf, on_stats);
    }
    rd_kafka_t *rk = new_client(RD_KAFKA_PRODUCER, conf);
    if (!rk) return 1;
    rd_kafka_topic_t *topic = rd_kafka_topic_new(rk, o->topic, NULL);

    /* Incompressible-looking payload, shared by every record (librdkafka does not copy it). */
    char *payload = malloc((size_t)o->size_bytes);
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    for (int64_t i = 0; i < o->size_bytes; i++) {
        seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17;
        payload[i] = (char)seed;
    }

    /* Warm the connection and metadata so that the first records do not pay for bootstrap. */
    const struct rd_kafka_metadata *metadata = NULL;
    if (rd_kafka_metadata(rk, 0, topic, &metadata, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "rkbench: no metadata for %s\n", o->topic);
        return 1;
    }
    rd_kafka_metadata_destroy(metadata);

    double user0, sys0;
    cpu_seconds(&user0, &sys0);
    double interval_ns = o->rate_per_s > 0 ? 1e9 / o->rate_per_s : 0;
    prctl(PR_SET_TIMERSLACK, 1000UL); /* sleeps end within ~1 µs of their deadline, not 50 µs */
    int64_t start_ns = now_ns();
    state.warmup_end_ns = start_ns + (int64_t)(o->warmup_s * 1e9);
    int64_t queue_full_waits = 0;
    int64_t behind_max_ns = 0;
    for (int64_t i = 0; i < o->records; i++) {
        int64_t intended_ns;
        if (interval_ns > 0) {
            intended_ns = start_ns + (int64_t)((double)i * interval_ns);
            /* Pace in steps of at least PACE_STEP_NS: a record is never sent early, at most a step late
             * (counted in its latency), and the driver does not spin a core that the broker needs. */
            int64_t now = now_ns();
            if (intended_ns > now) {
                int64_t wake_ns = intended_ns - now < PACE_STEP_NS ? now + PACE_STEP_NS : intended_ns;
                for (int64_t rest_ns = wake_ns - now; rest_ns > 0; rest_ns = wake_ns - now_ns()) {
                    if (rest_ns > 2000000) {
                        rd_kafka_poll(rk, (int)(rest_ns / 1000000) - 1); /* serves delivery reports meanwhile */
                    } else {
                        struct timespec pause = {0, rest_ns};
                        nanosleep(&pause, NULL);
                    }
                }
                rd_kafka_poll(rk, 0);
            }
            int64_t behind_ns = now_ns() - intended_ns;
            if (behind_ns > behind_max_ns) behind_max_ns = behind_ns;
            if (intended_ns >= state.warmup_end_ns) hist_record(&state.lateness, behind_ns);
        } else {
            intended_ns = now_ns();
        }
        for (;;) {
            if (rd_kafka_produce(topic, RD_KAFKA_PARTITION_UA, 0, payload, (size_t)o->size_bytes, NULL, 0,
                                 (void *)(intptr_t)intended_ns) == 0) {
                break;
            }
            rd_kafka_resp_err_t err = rd_kafka_last_error();
            if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                fprintf(stderr, "rkbench: produce failed: %s\n", rd_kafka_err2str(err));
                return 1;
            }
            queue_full_waits++;
            rd_kafka_poll(rk, 1);
        }
        rd_kafka_poll(rk, 0);
    }
    while (rd_kafka_outq_len(rk) > 0) {
        rd_kafka_poll(rk, 50);
        if (now_ns() - state.last_delivery_ns > 300LL * 1000000000LL && state.last_delivery_ns > 0) {
            fprintf(stderr, "rkbench: no delivery report for 300 s, giving up\n");
            break;
        }
    }
    int64_t end_ns = state.last_delivery_ns > 0 ? state.last_delivery_ns : now_ns();
    double user1, sys1;
    cpu_seconds(&user1, &sys1);
    double seconds = (double)(end_ns - start_ns) / 1e9;
    double mb = (double)state.delivered_bytes / 1e6;
    const histogram_t *h = &state.hist;

    printf("{\"mode\":\"produce\",\"librdkafka\":\"%s\",\"topic\":\"%s\",\"acks\":\"%s\",\"record_bytes\":%" PRId64
           ",\"linger_ms\":%d,\"batch_bytes\":%" PRId64 ",\"target_rate_rps\":%.1f,\"warmup_s\":%.1f"
           ",\"records\":%" PRId64 ",\"failed\":%" PRId64 ",\"first_error\":\"%s\",\"bytes\":%" PRId64
           ",\"seconds\":%.4f,\"mb_per_s\":%.3f,\"records_per_s\":%.1f"
           ",\"latency_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p99_9\":%.3f,\"max\":%.3f,\"mean\":%.3f}"
           ",\"send_lateness_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"p99_9\":%.3f}"
           ",\"client_cpu_s\":{\"user\":%.3f,\"sys\":%.3f,\"total\":%.3f}"
           ",\"queue_full_waits\":%" PRId64 ",\"schedule_behind_max_ms\":%.3f}\n",
           rd_kafka_version_str(), o->topic, o->acks, o->size_bytes, o->linger_ms, o->batch_bytes, o->rate_per_s, o->warmup_s, state.delivered,
           state.failed, state.failed ? rd_kafka_err2name(state.first_error) : "", state.delivered_bytes, seconds,
           seconds > 0 ? mb / seconds : 0, seconds > 0 ? state.delivered / seconds : 0, hist_percentile_ms(h, 50),
           hist_percentile_ms(h, 90), hist_percentile_ms(h, 99), hist_percentile_ms(h, 99.9), h->max_us / 1000.0,
           h->total ? h->sum_us / h->total / 1000.0 : 0, hist_percentile_ms(&state.lateness, 50),
           hist_percentile_ms(&state.lateness, 99), hist_percentile_ms(&state.lateness, 99.9), user1 - user0, sys1 - sys0, (user1 - user0) + (sys1 - sys0),
           queue_full_waits, behind_max_ns / 1e6);
    rd_kafka_topic_destroy(topic);
    rd_kafka_destroy(rk);
    free(payload);
    if (stats_out) fclose(stats_out);
    return state.failed == 0 && state.delivered == o->records ? 0 : 1;
}

/* ---- Consume: every partition from its start up to the high watermarks read before starting. ---- */

static int run_consume(const options_t *o) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (set_conf(conf, "bootstrap.servers", o->brokers) || set_conf(conf, "enable.auto.commit", "false") ||
        set_conf(conf, "enable.auto.offset.store", "false") || set_conf(conf, "group.id", "rkbench") ||
        set_conf_int(conf, "fetch.wait.max.ms", 100) || set_conf_int(conf, "queued.max.messages.kbytes", 131072)) {
        return 2;
    }
    rd_kafka_t *rk = new_client(RD_KAFKA_CONSUMER, conf);
    if (!rk) return 1;
    rd_kafka_poll_set_consumer(rk);

    rd_kafka_topic_t *topic = rd_kafka_topic_new(rk, o->topic, NULL);
    const struct rd_kafka_metadata *metadata = NULL;
    if (rd_kafka_metadata(rk, 0, topic, &metadata, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        metadata->topic_cnt != 1 || metadata->topics[0].partition_cnt == 0) {
        fprintf(stderr, "rkbench: no metadata for %s\n", o->topic);
        return 1;
    }
    int partition_count = metadata->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(metadata);
    rd_kafka_topic_destroy(topic);

    /* With --records N, wait (untimed) until the high watermarks cover N records, or stay still for 2 s:
     * a broker may expose acknowledged records to consumers only once they are durable. */
    int64_t expected = -1;
    int64_t wait_start_ns = now_ns();
    int64_t still_since_ns = wait_start_ns;
    for (;;) {
        int64_t previous = expected;
        expected = 0;
        for (int p = 0; p < partition_count; p++) {
            int64_t low = 0, high = 0;
            rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk, o->topic, p, &low, &high, 10000);
            if (err) {
                fprintf(stderr, "rkbench: watermarks of %s-%d: %s\n", o->topic, p, rd_kafka_err2str(err));
                return 1;
            }
            expected += high - low;
        }
        if (expected != previous) still_since_ns = now_ns();
        if (o->records <= 0 || expected >= o->records || now_ns() - still_since_ns > 2000000000LL) break;
        struct timespec pause = {0, 50000000};
        nanosleep(&pause, NULL);
    }
    double watermark_wait_s = (double)(now_ns() - wait_start_ns) / 1e9;
    rd_kafka_topic_partition_list_t *assignment = rd_kafka_topic_partition_list_new(partition_count);
    for (int p = 0; p < partition_count; p++) {
        rd_kafka_topic_partition_list_add(assignment, o->topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }

    double user0, sys0;
    cpu_seconds(&user0, &sys0);
    int64_t start_ns = now_ns();
    int64_t deadline_ns = start_ns + (int64_t)o->timeout_s * 1000000000LL;
    rd_kafka_assign(rk, assignment);
    rd_kafka_topic_partition_list_destroy(assignment);
    int64_t consumed = 0, consumed_bytes = 0, errors = 0;
    while (consumed < expected && now_ns() < deadline_ns) {
        rd_kafka_message_t *message = rd_kafka_consumer_poll(rk, 100);
        if (!message) continue;
        if (message->err) {
            if (message->err != RD_KAFKA_RESP_ERR__PARTITION_EOF && errors++ == 0) {
                fprintf(stderr, "rkbench: consume: %s\n", rd_kafka_message_errstr(message));
            }
        } else {
            consumed++;
            consumed_bytes += (int64_t)message->len;
        }
        rd_kafka_message_destroy(message);
    }
    int64_t end_ns = now_ns();
    double user1, sys1;
    cpu_seconds(&user1, &sys1);
    double seconds = (double)(end_ns - start_ns) / 1e9;
    printf("{\"mode\":\"consume\",\"librdkafka\":\"%s\",\"topic\":\"%s\",\"partitions\":%d,\"expected\":%" PRId64 ",\"records\":%" PRId64
           ",\"errors\":%" PRId64 ",\"bytes\":%" PRId64 ",\"seconds\":%.4f,\"mb_per_s\":%.3f,\"records_per_s\":%.1f"
           ",\"watermark_wait_s\":%.3f,\"client_cpu_s\":{\"user\":%.3f,\"sys\":%.3f,\"total\":%.3f}}\n",
           rd_kafka_version_str(), o->topic, partition_count, expected, consumed, errors, consumed_bytes, seconds,
           seconds > 0 ? consumed_bytes / 1e6 / seconds : 0, seconds > 0 ? consumed / seconds : 0, watermark_wait_s,
           user1 - user0,
           sys1 - sys0, (user1 - user0) + (sys1 - sys0));
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return consumed == expected ? 0 : 1;
}

/* ---- Admin ---- */

static rd_kafka_event_t *wait_admin_result(rd_kafka_queue_t *queue, rd_kafka_event_type_t type) {
    for (int waited_ms = 0; waited_ms < 30000; waited_ms += 500) {
        rd_kafka_event_t *event = rd_kafka_queue_poll(queue, 500);
        if (!event) continue;
        if (rd_kafka_event_type(event) == type) return event;
        rd_kafka_event_destroy(event);
    }
    return NULL;
}

/* Waits until every partition of the topic has a leader (or, with partitions = 0, the topic is gone). */
static int wait_topic_ready(rd_kafka_t *rk, const char *name, int partitions) {
    for (int attempt = 0; attempt < 100; attempt++) {
        rd_kafka_topic_t *topic = rd_kafka_topic_new(rk, name, NULL);
        const struct rd_kafka_metadata *metadata = NULL;
        int ready = 0;
        if (rd_kafka_metadata(rk, 0, topic, &metadata, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            const struct rd_kafka_metadata_topic *t = &metadata->topics[0];
            if (partitions == 0) {
                ready = metadata->topic_cnt == 0 || t->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
            } else if (metadata->topic_cnt == 1 && t->err == 0 && t->partition_cnt == partitions) {
                ready = 1;
                for (int p = 0; p < t->partition_cnt; p++) {
                    if (t->partitions[p].leader < 0 || t->partitions[p].err) ready = 0;
                }
            }
            rd_kafka_metadata_destroy(metadata);
        }
        rd_kafka_topic_destroy(topic);
        if (ready) return 0;
        struct timespec pause = {0, 100000000};
        nanosleep(&pause, NULL);
    }
    return -1;
}

static int run_admin(const options_t *o, int create) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (set_conf(conf, "bootstrap.servers", o->brokers) || set_conf(conf, "allow.auto.create.topics", "false")) return 2;
    rd_kafka_t *rk = new_client(RD_KAFKA_PRODUCER, conf);
    if (!rk) return 1;
    rd_kafka_queue_t *queue = rd_kafka_queue_new(rk);
    char error[512];
    rd_kafka_event_t *event;
    const rd_kafka_topic_result_t **results;
    size_t result_count = 0;
    if (create) {
        if (o->partitions <= 0) {
            fprintf(stderr, "rkbench: create needs --partitions > 0\n");
            return 2;
        }
        rd_kafka_NewTopic_t *topic = rd_kafka_NewTopic_new(o->topic, o->partitions, 1, error, sizeof error);
        if (!topic) {
            fprintf(stderr, "rkbench: %s\n", error);
            return 2;
        }
        for (int i = 0; i < o->config_count; i++) {
            char key[256];
            const char *equals = strchr(o->configs[i], '=');
            if (!equals || equals == o->configs[i] || (size_t)(equals - o->configs[i]) >= sizeof key) {
                fprintf(stderr, "rkbench: --config %s is not KEY=VALUE\n", o->configs[i]);
                return 2;
            }
            memcpy(key, o->configs[i], (size_t)(equals - o->configs[i]));
            key[equals - o->configs[i]] = 0;
            rd_kafka_NewTopic_set_config(topic, key, equals + 1);
        }
        rd_kafka_CreateTopics(rk, &topic, 1, NULL, queue);
        event = wait_admin_result(queue, RD_KAFKA_EVENT_CREATETOPICS_RESULT);
        if (event) results = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &result_count);
        rd_kafka_NewTopic_destroy(topic);
    } else {
        rd_kafka_DeleteTopic_t *topic = rd_kafka_DeleteTopic_new(o->topic);
        rd_kafka_DeleteTopics(rk, &topic, 1, NULL, queue);
        event = wait_admin_result(queue, RD_KAFKA_EVENT_DELETETOPICS_RESULT);
        if (event) results = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(event), &result_count);
        rd_kafka_DeleteTopic_destroy(topic);
    }
    if (!event) {
        fprintf(stderr, "rkbench: no answer from the admin request\n");
        return 1;
    }
    int status = 0;
    if (rd_kafka_event_error(event)) {
        fprintf(stderr, "rkbench: %s\n", rd_kafka_event_error_string(event));
        status = 1;
    }
    for (size_t i = 0; i < result_count && status == 0; i++) {
        if (rd_kafka_topic_result_error(results[i])) {
            fprintf(stderr, "rkbench: %s: %s\n", rd_kafka_topic_result_name(results[i]),
                    rd_kafka_topic_result_error_string(results[i]) ? rd_kafka_topic_result_error_string(results[i])
                                                                     : rd_kafka_err2str(rd_kafka_topic_result_error(results[i])));
            status = 1;
        }
    }
    rd_kafka_event_destroy(event);
    if (status == 0 && wait_topic_ready(rk, o->topic, create ? o->partitions : 0) != 0) {
        fprintf(stderr, "rkbench: %s not %s after 10 s\n", o->topic, create ? "ready" : "gone");
        status = 1;
    }
    if (status == 0) {
        printf("{\"mode\":\"%s\",\"topic\":\"%s\",\"partitions\":%d}\n", create ? "create" : "delete", o->topic,
               o->partitions);
    }
    rd_kafka_queue_destroy(queue);
    rd_kafka_destroy(rk);
    return status;
}

/* ---- Self-test of the histogram (make bench-check) ---- */

static int run_selftest(void) {
    /* Every value falls in the bucket whose bounds enclose it, and buckets are fine enough. */
    for (uint64_t us = 0; us < (1ULL << 40); us = us < 4096 ? us + 1 : us + us / 97 + 1) {
        int index = hist_index(us);
        uint64_t lower = hist_lower_us(index);
        uint64_t next = index + 1 < HIST_BUCKETS ? hist_lower_us(index + 1) : UINT64_MAX;
        if (lower > us || us >= next || (us >= HIST_LINEAR && (double)(us - lower) / (double)us > 0.016)) {
            fprintf(stderr, "selftest: %" PRIu64 " us lands in [%" PRIu64 ", %" PRIu64 ")\n", us, lower, next);
            return 1;
        }
    }
    /* 1..1000 ms once each: percentiles within the bucket resolution, never below the true value. */
    static histogram_t h;
    for (int ms = 1; ms <= 1000; ms++) hist_record(&h, (int64_t)ms * 1000000);
    const double percentiles[] = {50, 99, 99.9, 100};
    const double expected_ms[] = {500, 990, 999, 1000};
    for (int i = 0; i < 4; i++) {
        double got = hist_percentile_ms(&h, percentiles[i]);
        if (got < expected_ms[i] || got > expected_ms[i] * 1.016) {
            fprintf(stderr, "selftest: p%g = %.3f ms, expected %.0f ms\n", percentiles[i], got, expected_ms[i]);
            return 1;
        }
    }
    printf("{\"mode\":\"selftest\",\"ok\":true}\n");
    return 0;
}

/* ---- Arguments ---- */

static void usage(void) {
    fprintf(stderr,
            "usage: rkbench produce --brokers B --topic T --records N --size S [--acks 1|all] [--linger-ms 5]\n"
            "                       [--batch-bytes 1048576] [--rate RECORDS_PER_S] [--warmup-s 0]\n"
            "                       [--queue-kbytes 65536] [--stats-file PATH]\n"
            "       rkbench consume --brokers B --topic T [--records EXPECTED] [--timeout-s 300]\n"
            "       rkbench create  --brokers B --topic T --partitions P [--config KEY=VALUE ...]\n"
            "       rkbench delete  --brokers B --topic T\n");
}

int main(int argc, char **argv) {
    options_t o = {.brokers = "127.0.0.1:9092", .acks = "1", .linger_ms = 5, .batch_bytes = 1048576,
                   .queue_kbytes = 65536, .timeout_s = 300};
    if (argc < 2) {
        usage();
        return 2;
    }
    o.mode = argv[1];
    if (!strcmp(o.mode, "selftest")) return run_selftest();
    for (int i = 2; i < argc; i++) {
        const char *flag = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (!value) {
            fprintf(stderr, "rkbench: %s needs a value\n", flag);
            return 2;
        }
        i++;
        if (!strcmp(flag, "--brokers")) o.brokers = value;
        else if (!strcmp(flag, "--topic")) o.topic = value;
        else if (!strcmp(flag, "--records")) o.records = strtoll(value, NULL, 10);
        else if (!strcmp(flag, "--size")) o.size_bytes = strtoll(value, NULL, 10);
        else if (!strcmp(flag, "--acks")) o.acks = value;
        else if (!strcmp(flag, "--linger-ms")) o.linger_ms = atoi(value);
        else if (!strcmp(flag, "--batch-bytes")) o.batch_bytes = strtoll(value, NULL, 10);
        else if (!strcmp(flag, "--rate")) o.rate_per_s = strtod(value, NULL);
        else if (!strcmp(flag, "--warmup-s")) o.warmup_s = strtod(value, NULL);
        else if (!strcmp(flag, "--queue-kbytes")) o.queue_kbytes = strtoll(value, NULL, 10);
        else if (!strcmp(flag, "--stats-file")) o.stats_file = value;
        else if (!strcmp(flag, "--partitions")) o.partitions = atoi(value);
        else if (!strcmp(flag, "--timeout-s")) o.timeout_s = atoi(value);
        else if (!strcmp(flag, "--config") && o.config_count < CONFIGS_MAX) o.configs[o.config_count++] = value;
        else {
            fprintf(stderr, "rkbench: unknown option %s\n", flag);
            usage();
            return 2;
        }
    }
    if (!o.topic) {
        usage();
        return 2;
    }
    if (!strcmp(o.mode, "produce")) return run_produce(&o);
    if (!strcmp(o.mode, "consume")) return run_consume(&o);
    if (!strcmp(o.mode, "create")) return run_admin(&o, 1);
    if (!strcmp(o.mode, "delete")) return run_admin(&o, 0);
    usage();
    return 2;
}
