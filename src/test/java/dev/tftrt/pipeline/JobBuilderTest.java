package dev.tftrt.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.model.LoadOptions;
import dev.tftrt.tensor.HostTensor;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The check settings the three job builders share reach each job's options, and chain as its own builder. */
class JobBuilderTest {
  static final LoadOptions LOAD = LoadOptions.of(Path.of("model"));
  static final Path OUT = Path.of("out");
  static final Map<String, HostTensor> GIVEN = Map.of("x", HostTensor.ofFloats(new long[] {1}, new float[] {2f}));

  @Test
  void freeze() {
    FreezeJob.Options o = FreezeJob.builder(LOAD, OUT).seed(9).verify(false).overwrite(true).allowUnverified(true)
        .shapes(Map.of("x", new long[] {1, 3})).given(GIVEN).build();
    assertEquals(9, o.seed());
    assertFalse(o.verify());
    assertTrue(o.overwrite() && o.allowUnverified());
    assertArrayEquals(new long[] {1, 3}, o.shapes().get("x"));
    assertEquals(GIVEN, o.given().apply(null));
  }

  @Test
  void export() {
    ExportJob.Options o = ExportJob.builder(LOAD, OUT).opset(15).seed(4).given(GIVEN).opset(17).build();
    assertEquals(17, o.opset());
    assertEquals(4, o.seed());
    assertTrue(o.verify());
    assertEquals(GIVEN, o.given().apply(null));
  }

  @Test
  void convertKeepsGivenInputsThroughToBuilder() {
    ConvertJob.Options o = ConvertJob.builder(LOAD, OUT).seed(3).given(GIVEN).keepFrozen(true).overwrite(true).build();
    assertEquals(GIVEN, o.givenInputs(null));
    ConvertJob.Options again = o.toBuilder().fallback("tensorflow").build();
    assertEquals(GIVEN, again.givenInputs(null));
    assertEquals(3, again.seed());
    assertTrue(again.keepFrozen() && again.overwrite());
    assertEquals("tensorflow", again.fallback());
    ConvertJob.Options none = ConvertJob.builder(LOAD, OUT).build();
    assertEquals(Map.of(), none.givenInputs(null));
    assertSame(none.load(), LOAD);
  }
}
