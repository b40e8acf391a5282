package io.ephemera.common;

import io.temporal.api.enums.v1.IndexedValueType;
import io.temporal.common.SearchAttributeKey;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Custom search attributes, so operators find any environment or runner in the Temporal UI by
 * project, merge request, job or phase. Names are stored by the server: never rename. The worker
 * registers them at start-up ({@link #ALL}); workflows upsert them as their phase changes.
 */
public final class EphemeraSearchAttributes {
  public static final SearchAttributeKey<String> KIND =
      SearchAttributeKey.forKeyword("EphemeraKind");
  public static final SearchAttributeKey<Long> PROJECT_ID =
      SearchAttributeKey.forLong("GitLabProjectId");
  public static final SearchAttributeKey<Long> MR_IID =
      SearchAttributeKey.forLong("MergeRequestIid");
  public static final SearchAttributeKey<Long> JOB_ID = SearchAttributeKey.forLong("JobId");
  public static final SearchAttributeKey<String> PHASE = SearchAttributeKey.forKeyword("Phase");
  public static final SearchAttributeKey<String> ENVIRONMENT_URL =
      SearchAttributeKey.forKeyword("EnvironmentUrl");

  /** Every attribute with its server-side type, for registration. */
  public static final Map<String, IndexedValueType> ALL;

  static {
    Map<String, IndexedValueType> all = new LinkedHashMap<>();
    all.put(KIND.getName(), IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD);
    all.put(PROJECT_ID.getName(), IndexedValueType.INDEXED_VALUE_TYPE_INT);
    all.put(MR_IID.getName(), IndexedValueType.INDEXED_VALUE_TYPE_INT);
    all.put(JOB_ID.getName(), IndexedValueType.INDEXED_VALUE_TYPE_INT);
    all.put(PHASE.getName(), IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD);
    all.put(ENVIRONMENT_URL.getName(), IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD);
    ALL = java.util.Collections.unmodifiableMap(all);
  }

  private EphemeraSearchAttributes() {}
}
