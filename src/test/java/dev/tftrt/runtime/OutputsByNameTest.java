package dev.tftrt.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.TftrtException;
import dev.tftrt.demo.DemoModel;
import dev.tftrt.model.LoadOptions;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.pipeline.ConvertJob;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.tensor.Wav;
import dev.tftrt.testing.TestModels;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.StdArrays;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Issue 9: TftrtModel.call gave TensorFlow's Result, keyed by graph tensor names
 * ({@code TftrtEngine_0:0}), so reading an output by its signature name threw on every
 * converted model. Every output of several converted models is read here by its name.
 */
class OutputsByNameTest {
  @TempDir Path tmp;

  /** The README's example, word for word but for the folder (tensorOf(Shape) alone leaves the memory unset). */
  @Test
  void theReadmeExampleReadsProbabilitiesByName() throws Exception {
    Path saved = tmp.resolve("saved");
    DemoModel.save(saved, 11);
    Path dir = tmp.resolve("converted");
    ConvertJob.run(ConvertJob.Options.of(LoadOptions.of(saved), dir));
    try (TftrtModel model = TftrtModel.load(dir)) {
      try (TFloat32 image = TFloat32.tensorOf(StdArrays.ndCopyOf(new float[1][16][16][3]));
          Outputs out = model.call(Map.of("image", image))) {
        TFloat32 probabilities = (TFloat32) out.get("probabilities").orElseThrow();
        assertEquals(Shape.of(1, 10), probabilities.shape());
        float sum = 0;
        for (int k = 0; k < 10; k++) sum += probabilities.getFloat(0, k);
        assertEquals(1f, sum, 1e-5f); // a softmax: this is the probabilities, not the logits
        assertEquals(List.of("logits", "probabilities"), out.names());
        assertEquals(probabilities, out.get("probabilities", TFloat32.class));

        TftrtException wrongType = assertThrows(TftrtException.class, () -> out.get("logits", TInt32.class));
        assertEquals("output 'logits' of " + dir + " is a float32 tensor, not a TInt32.", wrongType.getMessage());
        TftrtException none = assertThrows(TftrtException.class, () -> out.get("scores", TFloat32.class));
        assertEquals(dir + " has no output 'scores'; its outputs are logits, probabilities.", none.getMessage());
        assertEquals(Optional.empty(), out.get("scores"));
        out.close();
        assertThrows(IllegalStateException.class, () -> out.get("probabilities"));
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"mlp-fc-layers/frozen.pb", "half_plus_two_tf2", "kws/DNN_S.pb"})
  void everyOutputOfASharedModelIsReadByItsSignatureName(String relative) throws Exception {
    Path model = TestModels.shared(relative);
    Path dir = tmp.resolve("converted");
    Map<String, HostTensor> wav = Map.of("wav_data", HostTensor.ofStrings(new long[0],
        new byte[][] {Wav.randomClip(16000, 1, 16000, 5)}));
    ConvertJob.run(ConvertJob.builder(LoadOptions.of(model), dir)
        .given(relative.startsWith("kws") ? wav : Map.of()).build());
    try (TftrtModel m = TftrtModel.load(dir)) {
      Map<String, HostTensor> feeds = relative.startsWith("kws") ? wav : Feeds.random(m.inputs(), Map.of(), 3);
      Map<String, HostTensor> expected = m.run(feeds);
      Map<String, Tensor> tf = new LinkedHashMap<>();
      for (Map.Entry<String, HostTensor> e : feeds.entrySet()) tf.put(e.getKey(), e.getValue().toTensor());
      try (Outputs out = m.call(tf)) {
        assertEquals(m.outputs().stream().map(TensorSpec::key).toList(), out.names());
        for (TensorSpec o : m.outputs()) {
          Tensor byName = out.get(o.key()).orElseThrow(() -> new AssertionError("no output " + o.key()));
          assertTrue(HostTensor.fromTensor(byName).contentEquals(expected.get(o.key())), o.key());
          // The graph's tensor name still works, as a fallback.
          assertEquals(byName, out.get(o.tensor()).orElseThrow());
        }
      } finally {
        tf.values().forEach(Tensor::close);
      }
    }
  }
}
