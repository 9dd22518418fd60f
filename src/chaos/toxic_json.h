/*
 * toxic_json.h — moved to spec/toxic_json.h. This forwarding header keeps
 * chaos/window.c building until it moves to load/ (another change) and
 * includes spec/toxic_json.h itself; delete it then.
 */
#include "spec/toxic_json.h"
