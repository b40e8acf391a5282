package io.ephemera.api.environments;

import java.util.List;

/** {@code GET /api/v1/review-apps}: an object, not a bare array, so fields can be added later. */
record ReviewAppList(List<ReviewAppView> items) {}
