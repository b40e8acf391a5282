package io.ephemera.worker.fuzz;

import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * The fuzzer's only source of randomness: one seed, printed, and settable with {@code
 * -Dephemera.fuzz.seed=<n>} so that a failing run can be replayed exactly. Requests are generated
 * up front from it, so the order in which concurrent requests finish does not change what is sent.
 */
final class FuzzRandom {
  static final String SEED_PROPERTY = "ephemera.fuzz.seed";

  private final SplittableRandom random;
  final long seed;

  private FuzzRandom(long seed) {
    this.seed = seed;
    this.random = new SplittableRandom(seed);
  }

  /** The seed given as a system property, else a fresh one; printed either way. */
  static FuzzRandom forSuite(String suite) {
    String given = System.getProperty(SEED_PROPERTY);
    long seed = given == null || given.isBlank() ? new Random().nextLong() : Long.parseLong(given);
    System.out.println(
        suite + " seed: " + seed + " (rerun with -D" + SEED_PROPERTY + "=" + seed + ")");
    return new FuzzRandom(seed);
  }

  /** An independent stream for one category, so adding a category does not shift the others. */
  FuzzRandom split(String category) {
    return new FuzzRandom(seed ^ (category.hashCode() * 0x9E3779B97F4A7C15L));
  }

  int nextInt(int bound) {
    return random.nextInt(bound);
  }

  int between(int from, int toInclusive) {
    return from + random.nextInt(toInclusive - from + 1);
  }

  long nextLong() {
    return random.nextLong();
  }

  boolean chance(double p) {
    return random.nextDouble() < p;
  }

  <T> T pick(List<T> options) {
    return options.get(random.nextInt(options.size()));
  }

  @SafeVarargs
  final <T> T pick(T... options) {
    return options[random.nextInt(options.length)];
  }

  byte[] bytes(int length) {
    byte[] b = new byte[length];
    for (int i = 0; i < length; i++) {
      b[i] = (byte) random.nextInt(256);
    }
    return b;
  }

  /** A visible-ASCII token such as an idempotency key. */
  String key() {
    return "fuzz-" + Long.toHexString(random.nextLong());
  }

  /**
   * A string of {@code length} code points drawn from the awkward corners of Unicode: accents that
   * change length when lower-cased, emoji (surrogate pairs), right-to-left text, combining marks,
   * zero-width characters, control characters, CJK, and plain ASCII punctuation.
   */
  String unicode(int length) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < length; i++) {
      int cp =
          switch (random.nextInt(10)) {
            case 0 -> pick(0x130, 0x131, 0xDF, 0x1E9E, 0x3A3, 0x2126); // İ ı ß ẞ Σ Ω
            case 1 -> 0x1F600 + random.nextInt(80); // emoji
            case 2 -> 0x5D0 + random.nextInt(27); // Hebrew
            case 3 -> 0x300 + random.nextInt(0x70); // combining marks
            case 4 -> pick(0x200B, 0x200D, 0xFEFF, 0x202E, 0x2028); // zero-width, RLO, LS
            case 5 -> random.nextInt(0x20); // control characters, NUL included
            case 6 -> 0x4E00 + random.nextInt(0x5000); // CJK
            case 7 -> pick((int) '/', (int) '.', (int) '-', (int) '_', (int) ' ', (int) '%');
            case 8 -> 0xFF01 + random.nextInt(0x5E); // full-width forms
            default -> 'a' + random.nextInt(26);
          };
      b.appendCodePoint(cp);
    }
    return b.toString();
  }
}
