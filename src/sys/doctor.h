/*
 * doctor.h — is this machine fit for the planned run?
 *
 * An untuned kernel drops SYNs, runs out of local ports or file
 * descriptors, and the generator runs out of CPU; the run then measures the
 * machine, not the server. doctor_check_all() reads the kernel settings and
 * limits that cause these failures and judges each against a plan (rate,
 * connections, keep-alive, threads, target): ok, warn (the run may be
 * distorted) or fail (the run will hit the limit). Every check carries the
 * current value, the recommended value, the symptom when it is too low and
 * the exact command that fixes it.
 *
 * `salvo doctor` prints the whole report; `salvo run` can call
 * doctor_check_all() with its own plan and print doctor_findings() with
 * doctor_format_line(), one line each.
 *
 * Everything is read under plan->root ("/" by default), so tests point the
 * checks at recorded /proc and /sys trees. The only live inputs are the
 * target's name resolution and its listener (sock_diag), and only when a
 * target is given. Nothing here prints, and nothing outlives the call but
 * the report: a caller-owned struct of fixed-size strings (about 30 KB, so
 * better on the heap than on a worker's stack).
 */
#ifndef SALVO_DOCTOR_H
#define SALVO_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sys/doctor_report.h"

/* Fills a plan with defaults: no rate, default connections, keep-alive. */
void doctor_plan_init(struct doctor_plan *plan);

/*
 * Runs every check of plan into *out (which it overwrites). A setting that
 * cannot be read becomes a warn check saying so; a missing optional file
 * (the conntrack table, cpufreq) is reported as absent or skipped.
 * Returns 0, or -ENAMETOOLONG for an overlong root.
 */
int doctor_check_all(const struct doctor_plan *plan, struct doctor_report *out);

/*
 * Stores pointers to the checks whose status is at least min (DOCTOR_WARN
 * for "everything that matters to this run") into found[0 .. max-1], fails
 * first. Returns how many there are (which may exceed max). The pointers
 * stay valid while *r does.
 */
size_t doctor_findings(const struct doctor_report *r, enum doctor_status min, const struct doctor_check **found,
                       size_t max);

/*
 * Writes one line (no newline) for a finding:
 * "warn net.ipv4.tcp_max_syn_backlog = 2048 (recommended >= 4096): <symptom>; fix: <fix>".
 * Returns what snprintf returns.
 */
int doctor_format_line(const struct doctor_check *c, char *buf, size_t cap);

/* "ok", "warn" or "fail". */
const char *doctor_status_name(enum doctor_status s);

/*
 * Splits "HOST:PORT" or "[V6ADDR]:PORT" into host (without brackets) and a
 * port from 1 to 65535. Returns 0 or -EINVAL.
 */
int doctor_parse_target(const char *text, char *host, size_t host_cap, uint16_t *port);

struct sockaddr;
/*
 * One TCP connect to sa, closed at once: 0 when something accepted it,
 * -ECONNREFUSED when nothing listens there, -ETIMEDOUT after timeout_ms,
 * or another -errno (unreachable network, ...).
 */
int doctor_probe_connect(const struct sockaddr *sa, unsigned len, int timeout_ms);

#endif
