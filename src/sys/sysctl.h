/*
 * sysctl.h — kernel settings and small /proc and /sys files, read under a
 * configurable root.
 *
 * `salvo doctor` judges a machine by a few dozen tiny files. Reading them
 * through a root directory ("/" on a live machine, a recorded tree under
 * tests/unit/data/ in tests) lets every judgement be tested against odd and
 * missing files without touching the real kernel. The text parsers are
 * separate pure functions so that each file format is tested on its own.
 *
 * Nothing here allocates; results land in caller-owned buffers. Every
 * function returns >= 0 on success or -errno: -ENOENT for a missing file
 * (an older kernel, an unloaded module, a container that hides it),
 * -EINVAL for text that does not have the expected shape.
 */
#ifndef SALVO_SYSCTL_H
#define SALVO_SYSCTL_H

#include <stddef.h>
#include <stdint.h>

#define SYSCTL_ROOT_MAX 512

/* Where /proc and /sys are found. Caller-owned; no release is needed. */
struct sysctl {
    char root[SYSCTL_ROOT_MAX]; /* without a trailing slash; "" means "/" */
};

/*
 * Sets the root: NULL or "/" for the live machine, else a directory that
 * holds proc/ and sys/ subtrees. Returns 0 or -ENAMETOOLONG.
 */
int sysctl_init(struct sysctl *s, const char *root);

/*
 * Reads the file at rel (relative to the root, e.g. "proc/net/softnet_stat")
 * into buf, NUL-terminated and truncated to cap - 1 bytes. Returns the
 * number of bytes read or -errno.
 */
int sysctl_read_file(const struct sysctl *s, const char *rel, char *buf, size_t cap);

/*
 * Reads the setting name in dotted form ("net.ipv4.ip_local_port_range",
 * under proc/sys/) as up to max integers. Returns how many were read
 * (at least 1) or -errno.
 */
int sysctl_get(const struct sysctl *s, const char *name, int64_t *vals, int max);

/* Like sysctl_get for a single integer. */
int sysctl_get_one(const struct sysctl *s, const char *name, int64_t *val);

/*
 * Parses whitespace-separated decimal integers ("32768\t60999\n").
 * Returns how many were stored (at most max), or -EINVAL when the text
 * holds no integer or something other than integers.
 */
int sysctl_parse_ints(const char *text, int64_t *vals, int max);

/*
 * Counts the members of a range list ("0-3,8,10-11", the format of CPU
 * lists and of ip_local_reserved_ports) that lie within [lo, hi]. An empty
 * list counts 0. Returns 0 and sets *count, or -EINVAL.
 */
int sysctl_parse_ranges(const char *text, int64_t lo, int64_t hi, int64_t *count);

/*
 * Finds the line of /proc/PID/limits whose name starts with limit
 * ("Max open files") and reads its soft and hard values; "unlimited" is
 * INT64_MAX. Returns 0, -ENOENT when the line is missing, or -EINVAL.
 */
int sysctl_parse_limits(const char *text, const char *limit, int64_t *soft, int64_t *hard);

/*
 * Finds "key:" at the start of a line of a /proc/PID/status-like file and
 * copies the rest of the line, trimmed, into out. Returns 0 or -ENOENT.
 */
int sysctl_parse_field(const char *text, const char *key, char *out, size_t cap);

/*
 * Sums column 2 (packets dropped because the per-CPU backlog,
 * netdev_max_backlog, was full) over the rows of /proc/net/softnet_stat.
 * Columns are hexadecimal. Returns the number of CPU rows or -EINVAL.
 */
int sysctl_parse_softnet_drops(const char *text, uint64_t *drops);

/*
 * Parses a cgroup v2 cpu.max ("max 100000" or "50000 100000") into a CPU
 * count; *cpus is 0 when there is no quota. Returns 0 or -EINVAL.
 */
int sysctl_parse_cpu_max(const char *text, double *cpus);

#endif
