package dev.tftrt.convert;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/** Checks that a {@link Covers} test really compared each op type it claims. */
public final class CoverageExtension implements BeforeEachCallback, AfterEachCallback {
  @Override
  public void beforeEach(ExtensionContext context) {
    OnnxCheck.CHECKED_OPS.get().clear();
  }

  @Override
  public void afterEach(ExtensionContext context) {
    if (context.getExecutionException().isPresent()) return;
    Covers c = context.getRequiredTestMethod().getAnnotation(Covers.class);
    if (c == null) return;
    Set<String> missing = new TreeSet<>(Set.of(c.value()));
    missing.removeAll(OnnxCheck.CHECKED_OPS.get());
    assertTrue(missing.isEmpty(), "the test claims to cover " + missing
        + " but compared no converted node of that op");
  }
}
