package dev.tftrt.convert;

import dev.tftrt.convert.ops.OpTable;

import dev.tftrt.convert.ops.StandardConverters;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The README's op table is the registry's, not a hand-kept list. */
class ReadmeOpTableTest {
  @Test
  void readmeListsExactlyTheRegisteredOps() throws Exception {
    String readme = Files.readString(Path.of("README.md"));
    String expected = OpTable.replaceIn(readme, StandardConverters.registry());
    assertEquals(expected, readme, "README.md's op table is out of date: regenerate it with "
        + "java -cp \"target/classes:target/lib/*\" dev.tftrt.convert.ops.OpTable README.md");
  }
}
