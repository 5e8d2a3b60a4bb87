package dev.tftrt.build;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.TftrtException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** --shape-range parsing and the rule that turns ranges into one profile per engine (no CUDA). */
class ShapeRangesTest {
  @Test
  void parsesMinOptMaxWithCommasOrXAndTensorNamesHoldingColons() {
    ShapeRange r = ShapeRange.parse("image:0=1,257,257,3:8x257x257x3:32,257,257,3");
    assertEquals("image:0", r.name());
    assertArrayEquals(new long[] {1, 257, 257, 3}, r.min());
    assertArrayEquals(new long[] {8, 257, 257, 3}, r.opt());
    assertArrayEquals(new long[] {32, 257, 257, 3}, r.max());
    assertEquals("image:0=1x257x257x3:8x257x257x3:32x257x257x3", r.canonical());
    assertArrayEquals(new int[] {0}, r.varying());
    assertTrue(r.contains(new long[] {5, 257, 257, 3}));
    assertFalse(r.contains(new long[] {33, 257, 257, 3}));
    assertFalse(r.contains(new long[] {5, 257, 257}));
    ShapeRange fixed = ShapeRange.parse("x=4,3");
    assertArrayEquals(fixed.min(), fixed.max());
    assertEquals(0, fixed.varying().length);
  }

  @Test
  void badRangesAreOneSentenceEach() {
    assertEquals("--shape-range x is not of the form name=min:opt:max (each a shape such as 1,224,224,3).",
        assertThrows(TftrtException.class, () -> ShapeRange.parse("x")).getMessage());
    assertEquals("--shape-range x=1,3:2,3 has 2 shapes; give min:opt:max (three) or one fixed shape.",
        assertThrows(TftrtException.class, () -> ShapeRange.parse("x=1,3:2,3")).getMessage());
    assertEquals("--shape-range x=1,a:2,3:3,3 has a dimension 'a' that is not a whole number.",
        assertThrows(TftrtException.class, () -> ShapeRange.parse("x=1,a:2,3:3,3")).getMessage());
    assertEquals("the shape range of 'x' has dimension 0 going 8:4:16; each dimension must satisfy min <= opt <= max.",
        assertThrows(TftrtException.class, () -> ShapeRange.parse("x=8,3:4,3:16,3")).getMessage());
    assertEquals("the shape range of 'x' has shapes of different ranks (1x3, 2x3x1, 4x3); min, opt and max must have the same rank.",
        assertThrows(TftrtException.class, () -> ShapeRange.parse("x=1,3:2,3,1:4,3")).getMessage());
    assertEquals("--shape-range names 'x' twice; give one range per input.",
        assertThrows(TftrtException.class, () -> ShapeRanges.parse(List.of("x=1", "x=2"))).getMessage());
  }

  @Test
  void profileTakesGivenThenDeclaredThenBatchThenObserved() {
    ShapeRanges given = ShapeRanges.parse(List.of("a=1,3:4,3:8,3", "image=1,10:1,20:1,30"));
    List<ShapeRanges.Input> inputs = List.of(
        new ShapeRanges.Input("a:0", new long[] {-1, 3}),        // given (name without :0)
        new ShapeRanges.Input("w:0", new long[] {5, 5}),          // declared, fully known
        new ShapeRanges.Input("inner/x:0", new long[] {-1, 7}),   // only the batch unknown: carried
        new ShapeRanges.Input("seen:0", new long[] {2, -1}));     // observed
    List<ShapeRange> p = given.profile("E0", inputs, Map.of("seen:0", new long[] {2, 9}));
    assertEquals(List.of("a:0=1x3:4x3:8x3", "w:0=5x5:5x5:5x5", "inner/x:0=1x7:4x7:8x7", "seen:0=2x9:2x9:2x9"),
        p.stream().map(ShapeRange::canonical).toList());
    assertEquals("w:0=5x5:5x5:5x5", p.get(1).canonical());
    assertEquals("seen:0=2x9:2x9:2x9", p.get(3).canonical());
  }

  @Test
  void batchRangesThatDisagreeDoNotCarry() {
    ShapeRanges given = ShapeRanges.parse(List.of("a=1,3:4,3:8,3", "b=1,3:2,3:16,3"));
    TftrtException e = assertThrows(TftrtException.class, () -> given.profile("TftrtEngine_2",
        List.of(new ShapeRanges.Input("inner:0", new long[] {-1, 7})), Map.of()));
    assertEquals("engine TftrtEngine_2 input 'inner:0' has the shape [?, 7], with dimensions only known at run time; "
        + "give --shape-range inner=min:opt:max for it.", e.getMessage());
    ShapeRanges one = ShapeRanges.parse(List.of("a=1,3:4,3:8,3"));
    assertEquals("inner:0=1x7:4x7:8x7", one.profile("E", List.of(new ShapeRanges.Input("inner:0", new long[] {-1, 7})),
        Map.of()).get(0).canonical());
  }

  @Test
  void aGivenRangeMustFitTheDeclaredShape() {
    ShapeRanges given = ShapeRanges.parse(List.of("x=1,4:2,4:8,4"));
    TftrtException e = assertThrows(TftrtException.class, () -> given.profile("E1",
        List.of(new ShapeRanges.Input("x:0", new long[] {-1, 3})), Map.of()));
    assertEquals("--shape-range x=1x4:2x4:8x4 does not fit engine E1 input 'x:0', whose shape is [?, 3].", e.getMessage());
  }

  @Test
  void unmatchedNamesAreReported() {
    ShapeRanges given = ShapeRanges.parse(List.of("x=1,4", "typo=1"));
    assertEquals(List.of("typo"), given.unmatched(List.of("x:0", "y:0")));
  }
}
