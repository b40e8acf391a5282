package io.ephemera.activity.build;

/** A built (or already present) image; {@code skipped} when the registry already had the tag. */
public record BuildResult(String image, boolean skipped) {}
