package dev.tftrt.runtime.backend;

import static dev.tftrt.runtime.backend.BackendGraphs.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.tftrt.runtime.engine.EngineNode;
import dev.tftrt.runtime.engine.EngineOp;
import dev.tftrt.runtime.engine.EngineRegistry;
import dev.tftrt.tensor.HostTensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Session;

/**
 * Many threads calling one TensorFlow session whose engine node runs on one backend get exactly
 * the outputs a single thread gets for the same inputs.
 */
@SuppressWarnings("try") // registrations are try-with-resources scopes
class BackendConcurrencyTest {
  @BeforeAll
  static void load() {
    EngineOp.load();
  }

  static void concurrentCallsMatchOneThread(String backend, int threads, int calls) throws Exception {
    Model model = new Model(-1, true, true);
    String key = unique("conc");
    EngineNode node = model.engine(unique("TftrtEngine")).backend(backend).key(key).build();
    EngineRegistry.Registration f = EngineRegistry.addFactory(Backends.factoryForKeys(null, key));
    Graph g = importGraph(model.converted(node));
    Session s = new Session(g);
    boolean finished = false;
    try {
      // Inputs of several batch sizes, and their single-threaded outputs from the same session.
      int kinds = 6;
      List<Map<String, HostTensor>> feeds = new ArrayList<>();
      List<HostTensor[]> single = new ArrayList<>();
      for (int k = 0; k < kinds; k++) {
        feeds.add(model.feeds(1 + 3L * k, 100 + k));
        single.add(run(s, feeds.get(k), model.convertedFetches()));
      }
      // Sanity: the single-threaded outputs are right.
      for (int k = 0; k < kinds; k++) {
        HostTensor[] expected = model.expected(feeds.get(k));
        for (int i = 0; i < expected.length; i++) {
          assertClose(expected[i], single.get(k)[i], BackendRunTest.RTOL, BackendRunTest.ATOL);
        }
      }
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      try {
        List<Future<Integer>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          int first = t;
          done.add(pool.submit(() -> {
            int checked = 0;
            for (int c = 0; c < calls; c++) {
              int k = (first + c) % kinds;
              HostTensor[] out = run(s, feeds.get(k), model.convertedFetches());
              for (int i = 0; i < out.length; i++) {
                if (!out[i].contentEquals(single.get(k)[i])) {
                  throw new AssertionError("thread " + first + " call " + c + " output " + i
                      + " differs from the single-threaded result");
                }
              }
              checked++;
            }
            return checked;
          }));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        for (Future<Integer> d : done) {
          try {
            assertEquals(calls, d.get(deadline - System.nanoTime(), TimeUnit.NANOSECONDS));
          } catch (TimeoutException e) {
            // Closing a session with runs stuck inside would hang too: leave it open.
            fail(threads + " threads x " + calls + " calls on the " + backend
                + " backend did not finish in 120 s (deadlocked?)");
          }
        }
        finished = true;
      } finally {
        pool.shutdownNow();
      }
    } finally {
      if (finished) {
        s.close();
        g.close();
        f.close();
      }
    }
  }

  @Test
  void onnxRuntime8Threads100CallsEach() throws Exception {
    concurrentCallsMatchOneThread("onnxruntime", 8, 100);
  }

  /**
   * More concurrent runs than TensorFlow has inter-op threads: each engine kernel blocks an
   * inter-op thread while its nested segment session runs, so the nested session must not need
   * that pool (with TensorFlow's default session options this deadlocks).
   */
  @Test
  void tensorFlow64Threads20CallsEach() throws Exception {
    concurrentCallsMatchOneThread("tensorflow", 64, 20);
  }
}
