#!/usr/bin/env node
// read_hlog.js — reads an HdrHistogram interval log (v1.3) with the
// independent hdr-histogram-js implementation (HistogramLogReader and its
// V2 decoder; nothing of salvo's is used) and prints one JSON object:
//
//   {"interval_lines": N, "intervals": N, "tags": [...],
//    "total_count": C, "p50": v, "p99": v, "max": v, "min": v,
//    "by_tag": {tag: {"count", "p50", "p99", "max"}},
//    "per_interval": [{"tag", "start_ms", "end_ms", "count", "max"}...]}
//
// "interval_lines" counts the lines that look like interval lines (not a
// comment, not the legend, containing a comma); "intervals" counts the
// histograms the library decoded. HistogramLogReader stops (returns null) at
// the first line it cannot parse, so a difference between the two means the
// log is not readable by a third-party reader. Usage: node read_hlog.js FILE
"use strict";

const fs = require("fs");
const hdr = require("hdr-histogram-js");

function newHistogram() {
  return hdr.build({
    bitBucketSize: 64,
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 2,
    numberOfSignificantValueDigits: 3,
  });
}

function summary(h) {
  return {
    count: h.totalCount,
    min: h.totalCount ? h.minNonZeroValue : null,
    p50: h.totalCount ? h.getValueAtPercentile(50) : null,
    p99: h.totalCount ? h.getValueAtPercentile(99) : null,
    max: h.totalCount ? h.maxValue : null,
  };
}

function main() {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write("usage: node read_hlog.js FILE\n");
    process.exit(2);
  }
  const text = fs.readFileSync(file, "utf8");
  const intervalLines = text
    .split(/\r\n|\r|\n/)
    .filter((l) => l.length > 0 && !l.startsWith("#") && !l.startsWith('"') && l.includes(","));

  const reader = new hdr.HistogramLogReader(text);
  const total = newHistogram();
  const byTag = new Map();
  const perInterval = [];
  let h;
  while ((h = reader.nextIntervalHistogram()) !== null) {
    total.add(h);
    if (!byTag.has(h.tag)) byTag.set(h.tag, newHistogram());
    byTag.get(h.tag).add(h);
    perInterval.push({
      tag: h.tag,
      start_ms: h.startTimeStampMsec,
      end_ms: h.endTimeStampMsec,
      count: h.totalCount,
      max: h.maxValue,
    });
  }
  const out = {
    interval_lines: intervalLines.length,
    intervals: perInterval.length,
    tags: Array.from(byTag.keys()),
    start_time_s: reader.startTimeSec === undefined ? null : reader.startTimeSec,
    base_time_s: reader.baseTimeSec === undefined ? null : reader.baseTimeSec,
    total_count: total.totalCount,
    min: summary(total).min,
    p50: summary(total).p50,
    p99: summary(total).p99,
    max: summary(total).max,
    by_tag: Object.fromEntries(Array.from(byTag.entries()).map(([t, th]) => [t, summary(th)])),
    per_interval: perInterval,
  };
  process.stdout.write(JSON.stringify(out) + "\n");
}

main();
