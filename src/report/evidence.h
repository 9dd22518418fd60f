/*
 * evidence.h — the server's side of a run in the results JSON: what
 * --scrape read (the `scrape` object) and what --profile saved (the
 * `profiles` array). Built once after the run; every renderer (summary,
 * HTML) reads the JSON, never the scrape state. docs/evidence.md has the
 * schema.
 */
#ifndef SALVO_EVIDENCE_H
#define SALVO_EVIDENCE_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "load/profile.h"
#include "load/scrape.h"

/* The `scrape` object: targets, series (values per timeline row, null for gaps), dropped, errors. */
json_t *evidence_scrape_json(const struct scrape *s, size_t nrows);

/* The `profiles` array: url, file, at_s, for_s, ok, bytes or error. */
json_t *evidence_profiles_json(const struct profiles *p);

/*
 * The summary's lines for them, read from the results JSON r: one per
 * scrape target, the start/end of the first EVIDENCE_SUMMARY_SERIES series
 * that changed, one per profile. Prints nothing without them.
 */
#define EVIDENCE_SUMMARY_SERIES 8
void evidence_summary_print(FILE *out, const json_t *r);

#endif
