/*
 * h2_stats.c — adding a worker's HTTP/2 figures into the run's (see h2.h):
 * counts add, maxima and minima fold, the SETTINGS histograms merge value
 * by value (at most H2_SETTING_VALUES distinct values per setting; later
 * ones count as "other"), so the figures stay bounded however many
 * connections a run makes.
 */
#include "load/h2.h"

#include <stddef.h>

void h2_stats_add(struct h2_stats *a, const struct h2_stats *b)
{
    a->conns += b->conns;
    if (b->streams_max > a->streams_max) a->streams_max = b->streams_max;
    a->goaways += b->goaways;
    for (int i = 0; i < H2_CODES; i++)
        a->resets[i] += b->resets[i];
    a->cancels += b->cancels;
    if (b->settings_seen && (!a->settings_seen || b->settings_min_streams < a->settings_min_streams))
        a->settings_min_streams = b->settings_min_streams;
    a->settings_seen += b->settings_seen;
    for (uint32_t id = 1; id <= H2_SETTING_IDS; id++) {
        const struct h2_setting_hist *hb = &b->settings[id - 1];
        for (uint32_t k = 0; k < hb->n; k++)
            h2_setting_note(a, id, hb->value[k], hb->count[k]);
        a->settings[id - 1].other += hb->other;
    }
    a->settings_unknown += b->settings_unknown;
    a->flow_waits += b->flow_waits;
    a->flow_wait_ns += b->flow_wait_ns;
    if (b->flow_wait_max_ns > a->flow_wait_max_ns) a->flow_wait_max_ns = b->flow_wait_max_ns;
    a->zero_limit += b->zero_limit;
    a->zero_holds += b->zero_holds;
}

void h2_setting_note(struct h2_stats *st, uint32_t id, uint32_t value, uint64_t n)
{
    if (id == 0 || id > H2_SETTING_IDS) {
        st->settings_unknown += n;
        return;
    }
    struct h2_setting_hist *h = &st->settings[id - 1];
    for (uint32_t k = 0; k < h->n; k++)
        if (h->value[k] == value) {
            h->count[k] += n;
            return;
        }
    if (h->n == H2_SETTING_VALUES) {
        h->other += n;
        return;
    }
    h->value[h->n] = value;
    h->count[h->n++] = n;
}

const char *h2_setting_name(uint32_t id)
{
    static const char *const names[H2_SETTING_IDS] = {
        "header_table_size",    "enable_push", "max_concurrent_streams",  "initial_window_size",  "max_frame_size",
        "max_header_list_size", NULL,          "enable_connect_protocol", "no_rfc7540_priorities"};
    return id >= 1 && id <= H2_SETTING_IDS ? names[id - 1] : NULL;
}
