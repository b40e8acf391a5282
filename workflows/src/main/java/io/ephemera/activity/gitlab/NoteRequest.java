package io.ephemera.activity.gitlab;

/**
 * The review app's note on merge request {@code mrIid}: {@code body} in Markdown. {@code noteId} is
 * the note's id when known (null on the first post).
 */
public record NoteRequest(long projectId, long mrIid, String body, Long noteId) {}
