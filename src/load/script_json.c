/*
 * script_json.c — r:json() of a session's step (docs/scripting.md,
 * "Sessions"): the body parsed by jansson into Lua tables. A body that is
 * not JSON raises a Lua error, which ends the session as failed.
 */
#include "load/script_int.h"

#include <jansson.h>
#include <stdio.h>

#define JSON_MT "salvo.json"

/* Pushes the JSON value v as Lua: objects and arrays as tables (arrays from 1), null as nil. */
static void push_json(lua_State *L, const json_t *v, int depth)
{
    if (depth > 64) luaL_error(L, "r:json(): nested deeper than 64 levels");
    luaL_checkstack(L, 4, "r:json()");
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        lua_createtable(L, 0, (int)json_object_size(v));
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            lua_pushstring(L, k);
            push_json(L, x, depth + 1);
            lua_rawset(L, -3);
        }
        return;
    }
    case JSON_ARRAY: {
        lua_createtable(L, (int)json_array_size(v), 0);
        for (size_t i = 0; i < json_array_size(v); i++) {
            push_json(L, json_array_get(v, i), depth + 1);
            lua_rawseti(L, -2, (int)i + 1);
        }
        return;
    }
    case JSON_STRING: lua_pushlstring(L, json_string_value(v), json_string_length(v)); return;
    case JSON_INTEGER: lua_pushnumber(L, (lua_Number)json_integer_value(v)); return;
    case JSON_REAL: lua_pushnumber(L, json_real_value(v)); return;
    case JSON_TRUE: lua_pushboolean(L, 1); return;
    case JSON_FALSE: lua_pushboolean(L, 0); return;
    default: lua_pushnil(L); return;
    }
}

/* r:json(): the step's body parsed; a body that is not JSON raises an error (the session's script_error). */
int script_r_json(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "body");
    size_t len;
    const char *body = lua_tolstring(L, -1, &len);
    json_error_t je;
    json_t *root = body ? json_loadb(body, len, JSON_DECODE_ANY, &je) : NULL;
    if (!root) {
        char msg[256];
        snprintf(msg, sizeof(msg), "r:json(): the body is not JSON: %s (line %d)", body ? je.text : "no body",
                 body ? je.line : 0);
        return luaL_error(L, "%s", msg);
    }
    /* Held by a userdata whose __gc lets it go, so an error inside push_json does not leak it. */
    json_t **hold = lua_newuserdata(L, sizeof(*hold));
    *hold = root;
    luaL_getmetatable(L, JSON_MT);
    lua_setmetatable(L, -2);
    push_json(L, root, 0);
    json_decref(root);
    *hold = NULL;
    return 1;
}

static int json_gc(lua_State *L)
{
    json_t **hold = lua_touserdata(L, 1);
    if (hold && *hold) json_decref(*hold);
    return 0;
}

void script_json_open(lua_State *L)
{
    luaL_newmetatable(L, JSON_MT);
    lua_pushcfunction(L, json_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
}
