package dev.tftrt.convert;

import dev.tftrt.convert.ops.StandardConverters;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Every registered op type has a numeric test, and tests cover only registered op types. */
class RegistryCoverageTest {
  @Test
  void everyRegisteredOpHasANumericTest() throws Exception {
    Set<String> covered = coveredOps();
    Set<String> missing = new TreeSet<>(StandardConverters.registry().opTypes());
    missing.removeAll(covered);
    assertEquals(Set.of(), missing, "registered op types without a @Covers numeric test");
  }

  @Test
  void testsCoverOnlyRegisteredOps() throws Exception {
    Set<String> extra = new TreeSet<>(coveredOps());
    extra.removeAll(StandardConverters.registry().opTypes());
    extra.remove("Placeholder");
    assertEquals(Set.of(), extra, "@Covers names op types that are not registered");
  }

  @Test
  void registryIsLarge() {
    assertTrue(StandardConverters.registry().opTypes().size() >= 50,
        "registered: " + StandardConverters.registry().opTypes().size());
  }

  static Set<String> coveredOps() throws Exception {
    Path root = Paths.get(RegistryCoverageTest.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    Set<String> covered = new TreeSet<>();
    try (Stream<Path> files = Files.walk(root.resolve("dev/tftrt/convert"))) {
      for (Path p : (Iterable<Path>) files::iterator) {
        String rel = root.relativize(p).toString();
        if (!rel.endsWith(".class") || rel.contains("$")) continue;
        Class<?> c = Class.forName(rel.replace('/', '.').replaceAll("\\.class$", ""));
        for (Method m : c.getDeclaredMethods()) {
          Covers cv = m.getAnnotation(Covers.class);
          if (cv != null) covered.addAll(Set.of(cv.value()));
        }
      }
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    return covered;
  }
}
