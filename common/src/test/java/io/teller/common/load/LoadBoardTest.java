package io.teller.common.load;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class LoadBoardTest {

  @Test
  void deltasAddUpPerInstanceAcrossMembers() {
    LoadBoard board = new LoadBoard();
    board.apply(new LoadReport("b1", 1, false, Map.of("x", 3L, "y", 1L), 0));
    board.apply(new LoadReport("b2", 1, false, Map.of("x", 2L), 0));
    assertThat(board.total("x")).isEqualTo(5);
    assertThat(board.total("y")).isEqualTo(1);
    assertThat(board.byMember("x")).isEqualTo(Map.of("b1", 3L, "b2", 2L));

    board.apply(new LoadReport("b1", 2, false, Map.of("x", 0L), 0));
    assertThat(board.total("x")).isEqualTo(2);
    assertThat(board.total("y")).isEqualTo(1);
  }

  @Test
  void aFullReportReplacesEverythingThatMemberSaid() {
    LoadBoard board = new LoadBoard();
    board.apply(new LoadReport("b1", 1, false, Map.of("x", 3L, "y", 1L), 0));
    board.apply(new LoadReport("b1", 2, true, Map.of("z", 4L), 0));
    assertThat(board.total("x")).isZero();
    assertThat(board.total("y")).isZero();
    assertThat(board.total("z")).isEqualTo(4);
  }

  @Test
  void anOlderReportIsIgnored() {
    LoadBoard board = new LoadBoard();
    assertThat(board.apply(new LoadReport("b1", 5, false, Map.of("x", 1L), 0))).isTrue();
    assertThat(board.apply(new LoadReport("b1", 4, false, Map.of("x", 9L), 0))).isFalse();
    assertThat(board.total("x")).isEqualTo(1);
  }

  @Test
  void aMemberThatLeftStopsCountingAtOnceAndNothingGoesNegative() {
    LoadBoard board = new LoadBoard();
    board.apply(new LoadReport("b1", 1, false, Map.of("x", 3L), 0));
    board.apply(new LoadReport("b2", 1, false, Map.of("x", 1L), 0));
    board.forget("b1");
    assertThat(board.total("x")).isEqualTo(1);
    board.apply(new LoadReport("b2", 2, false, Map.of("x", -7L), 0));
    assertThat(board.total("x")).isZero();
    assertThat(board.members()).containsExactly("b2");
  }
}
