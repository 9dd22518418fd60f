/*
 * test_pool.c — tests of src/load/pool.c: the free stack, the idle set
 * (LIFO), the room list of pipelined connections, the open and busy counts
 * and the close statistics, against a simple model of which connection
 * each call must return. Sockets are stand-in pipe ends so that closing
 * one is real; nothing connects anywhere.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <unistd.h>

#include "load/http1.h"
#include "load/pool.h"

/* A loop and a pool of cap connections of depth streams. */
struct fixture {
    struct loop loop;
    struct pool pool;
};

static void setup_pool(struct fixture *f, uint32_t cap, uint32_t depth)
{
    assert_int_equal(loop_init(&f->loop, 0), 0);
    pool_init(&f->pool, &f->loop, cap, depth);
    for (uint32_t i = 0; i < cap; i++)
        f->pool.conns[i].proto = &http1_proto;
}

static void teardown_pool(struct fixture *f)
{
    pool_release(&f->pool);
    loop_release(&f->loop);
}

/* Gives c a socket stand-in and counts it open and established. */
static void open_conn(struct pool *p, struct conn *c)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    close(fds[1]);
    c->io.fd = fds[0];
    pool_opening(p, c);
    c->established = true;
    c->state = CONN_IDLE;
}

/* Free slots come out first-slot-first, each once, then none. */
static void test_free_stack(void **state)
{
    (void)state;
    struct fixture f;
    setup_pool(&f, 3, 1);
    assert_int_equal(f.pool.nfree, 3);
    for (uint32_t i = 0; i < 3; i++)
        assert_ptr_equal(pool_take_free(&f.pool), &f.pool.conns[i]);
    assert_null(pool_take_free(&f.pool));
    pool_give_slot(&f.pool, &f.pool.conns[1]);
    assert_ptr_equal(pool_take_free(&f.pool), &f.pool.conns[1]);
    assert_null(pool_take_free(&f.pool));
    teardown_pool(&f);
}

/* Idle connections come back last-in-first-out, and each only once. */
static void test_idle_lifo(void **state)
{
    (void)state;
    struct fixture f;
    setup_pool(&f, 4, 1);
    struct conn *c[4];
    for (int i = 0; i < 4; i++) {
        c[i] = pool_take_free(&f.pool);
        open_conn(&f.pool, c[i]);
        pool_give_back(&f.pool, c[i]);
        assert_int_equal(c[i]->state, CONN_IDLE);
        assert_int_equal(c[i]->list, LIST_IDLE);
    }
    /* Unlisting from the middle keeps the others in order. */
    pool_unlist(&f.pool, c[2]);
    pool_unlist(&f.pool, c[2]); /* twice is harmless */
    assert_ptr_equal(pool_take_idle(&f.pool), c[3]);
    assert_ptr_equal(pool_take_idle(&f.pool), c[1]);
    assert_ptr_equal(pool_take_idle(&f.pool), c[0]);
    assert_null(pool_take_idle(&f.pool));
    assert_null(pool_take_room(&f.pool));
    for (int i = 0; i < 4; i++)
        pool_close(&f.pool, c[i], BY_US, false);
    teardown_pool(&f);
}

/* A busy connection with a free stream slot is on the room list; a full one is on none. */
static void test_room_list(void **state)
{
    (void)state;
    struct fixture f;
    setup_pool(&f, 1, 3);
    struct conn *c = pool_take_free(&f.pool);
    open_conn(&f.pool, c);
    c->state = CONN_BUSY;
    c->nstreams = 1;
    pool_give_back(&f.pool, c);
    assert_int_equal(c->list, LIST_ROOM);
    assert_null(pool_take_idle(&f.pool));
    assert_ptr_equal(pool_take_room(&f.pool), c);
    c->nstreams = 3;
    pool_give_back(&f.pool, c);
    assert_int_equal(c->list, LIST_NONE);
    assert_null(pool_take_room(&f.pool));
    c->nstreams = 0;
    pool_give_back(&f.pool, c);
    assert_int_equal(c->list, LIST_IDLE);
    assert_int_equal(c->state, CONN_IDLE);
    pool_close(&f.pool, c, BY_US, false);
    teardown_pool(&f);
}

/* Without pipelining a busy connection never has room. */
static void test_no_room_at_depth_one(void **state)
{
    (void)state;
    struct fixture f;
    setup_pool(&f, 1, 1);
    struct conn *c = pool_take_free(&f.pool);
    open_conn(&f.pool, c);
    c->state = CONN_BUSY;
    c->nstreams = 1;
    pool_give_back(&f.pool, c);
    assert_int_equal(c->list, LIST_NONE);
    assert_null(pool_take_room(&f.pool));
    c->nstreams = 0;
    pool_close(&f.pool, c, BY_US, false);
    teardown_pool(&f);
}

/* Closing counts the reason once per established connection, tracks open and max open, frees the slot. */
static void test_close_counts(void **state)
{
    (void)state;
    struct fixture f;
    setup_pool(&f, 3, 1);
    static const enum close_reason why[3] = {BY_SERVER, BY_US, BY_ERROR};
    struct conn *c[3];
    for (int i = 0; i < 3; i++) {
        c[i] = pool_take_free(&f.pool);
        open_conn(&f.pool, c[i]);
    }
    assert_int_equal(f.pool.nopen, 3);
    assert_int_equal(f.pool.stats.max_open, 3);
    pool_give_back(&f.pool, c[0]);
    for (int i = 0; i < 3; i++)
        pool_close(&f.pool, c[i], why[i], i == 2);
    assert_null(pool_take_idle(&f.pool)); /* closing took c[0] off the idle set */
    assert_int_equal(f.pool.nopen, 0);
    assert_int_equal(f.pool.stats.max_open, 3);
    assert_int_equal(f.pool.stats.closed_by_server, 1);
    assert_int_equal(f.pool.stats.closed_by_us, 1);
    assert_int_equal(f.pool.stats.closed_by_error, 1);
    assert_int_equal(f.pool.nfree, 2); /* keep_slot kept the third out of the stack */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(c[i]->state, CONN_FREE);
        assert_int_equal(c[i]->io.fd, -1);
    }
    /* A connection that never got established closes without a count. */
    pool_close(&f.pool, c[2], BY_SERVER, false);
    assert_int_equal(f.pool.stats.closed_by_server, 1);
    assert_int_equal(f.pool.nfree, 3);
    teardown_pool(&f);
}

/* Each connection gets its own ring of depth streams. */
static void test_stream_rings(void **state)
{
    (void)state;
    struct fixture f;
    setup_pool(&f, 2, 4);
    for (int i = 0; i < 2; i++) {
        struct conn *c = &f.pool.conns[i];
        assert_int_equal(c->depth, 4);
        assert_non_null(c->streams);
        c->first = 3;
        assert_ptr_equal(conn_stream(c, 0), &c->streams[3]);
        assert_ptr_equal(conn_stream(c, 1), &c->streams[0]); /* wraps */
    }
    assert_ptr_not_equal(f.pool.conns[0].streams, f.pool.conns[1].streams);
    teardown_pool(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_free_stack),   cmocka_unit_test(test_idle_lifo),
        cmocka_unit_test(test_room_list),    cmocka_unit_test(test_no_room_at_depth_one),
        cmocka_unit_test(test_close_counts), cmocka_unit_test(test_stream_rings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
