/* version.h — salvo's version string, reported in every result. */
#ifndef SALVO_VERSION_H
#define SALVO_VERSION_H
#define SALVO_VERSION "0.1.0"
#endif
