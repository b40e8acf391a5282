package io.ephemera.api.runners;

/** Optional body of {@code POST .../stop}. */
record StopBody(String reason) {}
