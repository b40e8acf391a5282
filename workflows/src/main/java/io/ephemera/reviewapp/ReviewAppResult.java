package io.ephemera.reviewapp;

/** Result of a finished review app: its final status and why it stopped. */
public record ReviewAppResult(ReviewAppStatus finalStatus) {}
