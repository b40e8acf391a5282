package io.ephemera.reviewapp;

/** The {@code extend} update: keep the environment for {@code duration} (ISO-8601) from now. */
public record ExtendRequest(String duration) {}
