/*
 * container.h — from an embedded member back to the struct that holds it.
 *
 * salvo's loop hands callbacks the intrusive piece it was given (a struct
 * io, a struct timer) and never a user pointer (see core/loop.h): the
 * owner embeds the piece and gets itself back with container_of, so arming
 * a timer or watching a socket allocates nothing and stores no extra word.
 */
#ifndef SALVO_CONTAINER_H
#define SALVO_CONTAINER_H

#include <stddef.h>

/* The type object whose member `member` is at ptr. */
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

#endif
