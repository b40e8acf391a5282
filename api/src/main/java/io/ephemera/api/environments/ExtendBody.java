package io.ephemera.api.environments;

/** Body of {@code POST .../extend}: an ISO-8601 duration such as {@code PT48H}. */
record ExtendBody(String duration) {}
