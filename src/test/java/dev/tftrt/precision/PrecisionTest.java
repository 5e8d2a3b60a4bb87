package dev.tftrt.precision;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.TftrtException;
import org.junit.jupiter.api.Test;

class PrecisionTest {
  @Test
  void parsesLabelsCaseInsensitively() {
    assertEquals(Precision.FP16, Precision.parse("fp16"));
    assertEquals(Precision.INT8, Precision.parse(" INT8 "));
    assertEquals("fp32", Precision.FP32.label());
  }

  @Test
  void unknownNameIsOneSentenceListingTheChoices() {
    TftrtException e = assertThrows(TftrtException.class, () -> Precision.parse("bf16"));
    assertTrue(e.getMessage().contains("'bf16'") && e.getMessage().contains("fp32, fp16, int8"),
        e.getMessage());
    assertThrows(TftrtException.class, () -> Precision.parse(null));
  }
}
