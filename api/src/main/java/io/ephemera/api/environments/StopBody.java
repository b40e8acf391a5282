package io.ephemera.api.environments;

/** Optional body of {@code POST .../stop}. */
record StopBody(String reason) {}
