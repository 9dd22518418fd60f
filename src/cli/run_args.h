/*
 * run_args.h — what `salvo run`'s command line holds beyond the frozen
 * config (private to run_cli.c, which parses it, and run_exec.c, which
 * runs and reports): request sources, report outputs, gates, chaos.
 */
#ifndef SALVO_RUN_ARGS_H
#define SALVO_RUN_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "load/window.h"
#include "load/config.h"
#include "load/feeder.h"
#include "load/profile.h"
#include "load/reqgen.h"
#include "load/scrape.h"
#include "load/targets.h"
#include "report/hlog.h"
#include "report/dash.h"
#include "report/progress.h"
#include "report/prom.h"
#include "report/rwrite.h"
#include "report/thresholds.h"

#define MAX_HEADERS 64
#define MAX_THRESHOLDS 64
#define MAX_CHAOS 16

/* Parsed command line state that is not part of the frozen config. */
struct run_args {
    const char *headers[MAX_HEADERS];
    size_t nheaders;
    const char *redact[MAX_HEADERS]; /* --redact names */
    size_t nredact;
    char header_shown[MAX_HEADERS][1024]; /* the headers as reports show them (secrets redacted) */
    const char *header_shown_ptr[MAX_HEADERS];
    const char *threshold_text[MAX_THRESHOLDS];
    const char *body, *body_file;
    bool rate_given, conns_given, threads_given, duration_given;
    bool stages_given, conn_stages; /* --stages (a rate) or --conn-stages (closed: connections) */
    bool pick_given, pick_seed_given;
    uint64_t pick_seed; /* --pick random's seed: --pick-seed, else new each run */
    enum progress_mode progress;
    const char *data_path, *targets_path, *html_path;
    const char *junit_path; /* --junit */
    enum pick_mode pick;
    uint32_t max_names;
    struct feeder feeder;
    struct targets targets;
    bool has_feeder, has_targets;
    struct reqgen gen;
    const char *hlog_path;
    const char *metrics_addr;
    struct prom prom;
    const char *dash_addr;   /* --dashboard */
    uint64_t dash_linger_ns; /* --dashboard-linger */
    struct dash dash;
    struct rwrite_opts rw_opts; /* --remote-write, --remote-write-header */
    struct rwrite rw;
    struct chaos_window chaos[MAX_CHAOS];
    size_t nchaos;
    uint64_t chaos_spans[MAX_CHAOS][2];
    struct hlog hlog;
    struct progress prog;
    struct threshold thresholds[MAX_THRESHOLDS];
    int nthresholds;
    struct check checks[CHECK_MAX]; /* --check */
    uint32_t nchecks;
    /* --scrape and --profile (cli/evidence_cli.c) */
    const char *scrape_urls[SCRAPE_MAX_TARGETS];
    size_t nscrape;
    const char *scrape_match;
    uint32_t scrape_cap;
    struct {
        const char *url;
        uint64_t at_ns, for_ns;
        bool at_given, for_given;
    } profile[PROFILE_MAX];
    size_t nprofile;
    struct scrape scrape;
    struct profiles profiles;
    bool scrape_ready, profiles_ready;
    const char *script_path;        /* --script */
    const char *const *script_args; /* after `--`, for init(args) */
    int nscript_args;
    bool script_dashdash; /* the command line had `--` */
};

/* run_script.c: takes `-- ARGS...` off the end of argv (they are the script's). */
void run_script_split_args(int *argc, char **argv, struct run_args *a);
/* run_script.c: refuses options that contradict --script. Returns -1 or an exit code. */
int run_script_check(struct run_config *cfg, const struct run_args *a);
/* run_script.c: loads the script, runs setup() and init() (before any traffic). Returns -1 or 2. */
int run_script_load(struct run_config *cfg, struct run_args *a);
/* run_finish.c: fills defaults and checks combinations once all options are known. Returns -1 or an exit code. */
int finish_config(struct run_config *cfg, struct run_args *a, char **body_buf);
/* run_finish.c: the run id from what decides the schedule (shards of one run agree on it). */
void compute_run_id(struct run_config *cfg, const struct run_args *a);
/* run_finish.c: keeps the command line and the environment's provenance in the config. */
void keep_provenance(struct run_config *cfg, struct run_args *a, int argc, char **argv);

/* Fills run's defaults into cfg and a. */
void run_cli_defaults(struct run_config *cfg, struct run_args *a);

/* A verb built on run's options (`salvo find`): its own rows come after run's. */
struct run_cli_ext {
    const char *name, *synopsis, *epilog;
    const struct cli_opt *opts;
    size_t nopts;
    int (*handle)(const struct cli_opt *opt, char *arg, void *ctx); /* -2: let run's handler take it */
    void *ctx;
};

/*
 * Parses and checks a run's command line (ext: NULL for `salvo run`) into
 * cfg and a, which run_cli_defaults filled. Returns -1 when ready, else
 * the exit code; run_cli_release frees what it built either way.
 */
int run_cli_prepare(int argc, char **argv, const struct run_cli_ext *ext, struct run_config *cfg, struct run_args *a,
                    char **body_buf);
void run_cli_release(struct run_config *cfg, struct run_args *a, char *body_buf);

/* HTTP/2 options (run_h2.c): --h2-window/--h2-conn-window into *out, --h2-header-table into cfg. -1 or an exit code. */
int run_h2_window_opt(const struct cli_opt *o, const char *arg, uint32_t *out);
int run_h2_table_opt(const struct cli_opt *o, const char *arg, struct run_config *cfg);
/* Refuses protocol options that contradict the URL, each other or a --chaos window. -1 or an exit code. */
int run_check_protocol(const struct run_config *cfg, const struct run_args *a);
/* True when an option means HTTP/1.1 only (pipelining, no keep-alive, a connection ramp, an http_* toxic). */
bool run_h1_only(const struct run_config *cfg, const struct run_args *a);

/*
 * One connect to the target before any traffic (run_exec.c): -1 to go
 * on, or EXIT_RUNTIME when nothing listens there, said on one line ending
 * with nothing_sent ("no request was sent").
 */
int run_preflight_listen(const struct run_config *cfg, const char *nothing_sent);

/*
 * What a results JSON says about how its run ended (run_exec.c), for
 * verdict_of() and for merge and report later: which signal stopped it,
 * and the runtime error (rc < 0) or the cause of a run that got no
 * response. find's steps and ramp carry it too.
 */
void run_note_ending(json_t *doc, const struct run_result *r, int rc);

/* Runs the configured load, reports it and returns the exit code. */
int run_cli_execute(struct run_config *cfg, struct run_args *a);

/* The --scrape/--profile options (evidence_cli.c): stores one into a; -1 or an exit code. */
int evidence_opt(const struct cli_opt *o, const char *arg, struct run_args *a);

/* Checks the URLs and the regex, plans the profiles; -1 (go on) or EXIT_USAGE with the message printed. */
int evidence_prepare(const struct run_config *cfg, struct run_args *a);

/* Starts the scrape and profile threads before the run (the baseline scrape is read now). */
void evidence_begin(const struct run_config *cfg, struct run_args *a);

/* run_hooks.started's share: t0 for the side jobs. */
void evidence_started(struct run_args *a, uint64_t start_ns);

/*
 * find: before step number step (from 1), the side jobs again for that step
 * (cfg's length; profile files named after the JSON path plus .stepN).
 * -1, or the exit code of a bad option (as evidence_prepare).
 */
int evidence_step(const struct run_config *cfg, struct run_args *a, int step);

/* find: after evidence_end, keeps a step's fetched profiles or deletes them; marks each "kept" in doc. */
void evidence_keep_profiles(struct run_args *a, json_t *doc, bool keep);

/* Each second of the run: hands the scraped series read so far to the dashboard (with --dashboard). */
void evidence_second(struct run_args *a);

/* Stops the side jobs after the run (saying so when a profile still runs) and adds `scrape` and `profiles` to the
 * results JSON. */
void evidence_end(struct run_args *a, json_t *doc, size_t nrows, bool interrupted);

void evidence_release(struct run_args *a);

#endif
