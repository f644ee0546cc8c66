package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.HashMap;
import java.util.Map;

/**
 * What {@code cfn token list} or {@code cfn cert list} prints, as a table and as JSON, for a token
 * file holding three records of one kind: one intact ({@code intact}), one whose byte was flipped
 * (its checksum fails, its role still reads {@code viewer}) and one whose role no cfn knows ({@code
 * unreadable}). {@link #of} runs both listings and checks what the two commands share: the table
 * marks the two damaged rows DAMAGED and counts them, the JSON says {@code damaged} and why.
 *
 * @param table the table listing
 * @param json the {@code --json} listing
 * @param rows the table's row of each record, by id
 * @param byId the JSON object of each record, by id
 */
record DamagedListing(
    CliRun table, CliRun json, Map<String, String> rows, Map<String, JsonNode> byId) {

  /**
   * Lists with {@code cfn COMMAND list [--json] --home HOME} and checks the shared marks.
   *
   * @param ids each record's id by its note: {@code intact}, {@code flipped}'s note, {@code
   *     unreadable}
   * @param flipped the note of the record with a flipped byte
   * @param count the table's closing count, such as {@code 3 token(s), 2 DAMAGED}
   */
  static DamagedListing of(
      String command, String home, Map<String, String> ids, String flipped, String count)
      throws Exception {
    CliRun table = CliRun.run(command, "list", "--home", home);
    assertThat(table.code()).as(table.err()).isZero();
    assertThat(table.out().lines().toList().getFirst()).contains("RECORD");
    Map<String, String> rows = new HashMap<>();
    table
        .out()
        .lines()
        .forEach(l -> ids.values().stream().filter(l::startsWith).forEach(id -> rows.put(id, l)));
    assertThat(rows.get(ids.get("intact"))).contains(" ok ").doesNotContain("DAMAGED");
    assertThat(rows.get(ids.get(flipped))).contains("DAMAGED").contains("viewer");
    assertThat(rows.get(ids.get("unreadable"))).contains("DAMAGED").contains("?");
    assertThat(table.out()).contains(count);

    CliRun json = CliRun.run(command, "list", "--json", "--home", home);
    assertThat(json.code()).as(json.err()).isZero();
    Map<String, JsonNode> byId = new HashMap<>();
    new ObjectMapper().readTree(json.out()).forEach(n -> byId.put(n.path("id").asText(), n));
    assertThat(byId).hasSize(3);
    assertThat(byId.get(ids.get("intact")).path("damaged").asBoolean(true)).isFalse();
    assertThat(byId.get(ids.get("intact")).path("damage").isNull()).isTrue();
    JsonNode bad = byId.get(ids.get(flipped));
    assertThat(bad.path("damaged").asBoolean(false)).isTrue();
    assertThat(bad.path("damage").asText()).startsWith("fails its checksum");
    assertThat(bad.path("role").asText()).isEqualTo("viewer");
    JsonNode unreadable = byId.get(ids.get("unreadable"));
    assertThat(unreadable.path("damaged").asBoolean(false)).isTrue();
    assertThat(unreadable.path("role").isNull()).isTrue();
    return new DamagedListing(table, json, rows, byId);
  }

  /** Everything both listings printed, on either stream. */
  String printed() {
    return table.out() + table.err() + json.out() + json.err();
  }
}
