package io.ephemera.reviewapp;

import java.time.Instant;

/** Answer of the {@code extend} update: when the environment will now stop by itself. */
public record ExtendResult(Instant autoStopAt) {}
