// The shared YAML readers: suggestions, locations, and error collection.
#include <gtest/gtest.h>

#include "config/yaml_reader.h"

namespace intraday {
namespace {

TEST(ConfigYamlReader, ClosestMatch) {
  constexpr std::string_view kKeys[] = {"mics", "tickers", "listings", "isins", "file"};
  EXPECT_EQ(ClosestMatch("mic", kKeys), "mics");
  EXPECT_EQ(ClosestMatch("MICS", kKeys), "mics");          // case ignored
  EXPECT_EQ(ClosestMatch("listnigs", kKeys), "listings");  // transposition is one edit
  EXPECT_EQ(ClosestMatch("ticker", kKeys), "tickers");
  EXPECT_FALSE(ClosestMatch("universe", kKeys).has_value());
  constexpr std::string_view kRun[] = {"memory_per_worker", "max_rows_per_table"};
  EXPECT_EQ(ClosestMatch("memory-per-worker", kRun), "memory_per_worker");  // '-' as '_'
  EXPECT_EQ(SuggestionSuffix("x", kKeys), ": expected one of mics, tickers, listings, isins, file");
  EXPECT_EQ(SuggestionSuffix("fiel", kKeys), " (did you mean 'file'?)");
}

TEST(ConfigYamlReader, ReadersReportPathLineAndColumn) {
  const YAML::Node root = YAML::Load("a:\n  n: 12x\n  list: [1, b]\n  empty:\nnext: 1\n");
  ConfigDiagnostics diag("f.yaml");
  constexpr std::string_view kKeys[] = {"n", "list", "empty"};
  MapReader m(YamlValue{root["a"], "a", diag.LocationOf(root["a"])}, kKeys, &diag);
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(ReadInt(*m.Find("n"), &diag, 0, 100).has_value());
  auto items = ReadList(*m.Find("list"), &diag, "[1]");
  ASSERT_TRUE(items.has_value());
  EXPECT_EQ(ReadInt((*items)[0], &diag, 0, 100), 1);
  EXPECT_FALSE(ReadInt((*items)[1], &diag, 0, 100).has_value());
  // An empty value is placed at its key, not at the next token two lines down.
  EXPECT_FALSE(ReadString(*m.Find("empty"), &diag).has_value());
  EXPECT_EQ(m.Require("missing", "something"), nullptr);

  ASSERT_EQ(diag.error_count(), 4u);
  EXPECT_EQ(diag.errors()[0].ToString(),
            "f.yaml:2:6: a.n: '12x' is not an integer: expected an integer from 0 to 100");
  EXPECT_EQ(diag.errors()[1].ToString(),
            "f.yaml:3:13: a.list[1]: 'b' is not an integer: expected an integer from 0 to 100");
  EXPECT_EQ(diag.errors()[2].ToString(), "f.yaml:4:3: a.empty: expected a string, got nothing");
  EXPECT_EQ(diag.errors()[3].ToString(), "f.yaml:2:3: a.missing: missing: expected something");
  // Sorted by position in the status.
  const auto sorted = ConfigErrorsOf(diag.ToStatus());
  ASSERT_EQ(sorted.size(), 4u);
  EXPECT_EQ(sorted[0].key_path, "a.missing");  // 2:3
  EXPECT_EQ(sorted[1].key_path, "a.n");        // 2:6
  EXPECT_EQ(sorted[3].key_path, "a.empty");    // 4:3
}

TEST(ConfigYamlReader, AListOfChoices) {
  ConfigDiagnostics diag("f.yaml");
  constexpr std::string_view kSources[] = {"mid", "bid", "ask"};
  YAML::Node root = YAML::Load("a: [ask, mid, ask, mdi]\nb: []\nc: mid\nd:\n");
  auto at = [&](const char* key) { return YamlValue{root[key], key, diag.LocationOf(root[key])}; };
  // Each choice once, in the order first given; a wrong item reported (with its path) and left out.
  EXPECT_EQ(ReadChoices(at("a"), &diag, kSources, "[mid]"), (std::vector<size_t>{2, 0}));
  ASSERT_EQ(diag.error_count(), 1u);
  EXPECT_EQ(diag.errors()[0].key_path, "a[3]");
  EXPECT_NE(diag.errors()[0].message.find("did you mean 'mid'?"), std::string::npos);
  // Empty: an error only where asked for.
  EXPECT_EQ(ReadChoices(at("b"), &diag, kSources, "[mid]"), std::vector<size_t>{});
  EXPECT_EQ(diag.error_count(), 1u);
  EXPECT_EQ(ReadChoices(at("b"), &diag, kSources, "[mid]", "expected at least one source"),
            std::vector<size_t>{});
  ASSERT_EQ(diag.error_count(), 2u);
  EXPECT_EQ(diag.errors()[1].message, "expected at least one source");
  EXPECT_EQ(diag.errors()[1].key_path, "b");
  // Not a list: nothing chosen, the error says what was expected.
  EXPECT_FALSE(ReadChoices(at("c"), &diag, kSources, "[mid]").has_value());
  ASSERT_EQ(diag.error_count(), 3u);
  EXPECT_NE(diag.errors()[2].message.find("expected a list, e.g. [mid]"), std::string::npos);
  // No value reads as an empty list.
  EXPECT_EQ(ReadChoices(at("d"), &diag, kSources, "[mid]", "expected at least one source"),
            std::vector<size_t>{});
  EXPECT_EQ(diag.error_count(), 4u);
}

TEST(ConfigYamlReader, ChoicesAndScalars) {
  ConfigDiagnostics diag("f.yaml");
  constexpr std::string_view kChoices[] = {"dense", "sparse", "daily"};
  auto value = [](const char* text) {
    return YamlValue{YAML::Node(text), "k", SourceLocation{"f.yaml", 1, 1}};
  };
  EXPECT_EQ(ReadChoice(value("sparse"), &diag, kChoices), 1u);
  EXPECT_FALSE(ReadChoice(value("dialy"), &diag, kChoices).has_value());
  EXPECT_EQ(ReadBool(value("TRUE"), &diag), true);
  EXPECT_FALSE(ReadBool(value("yes"), &diag).has_value());
  EXPECT_EQ(ReadDuration(value("0"), &diag, true), 0);
  EXPECT_FALSE(ReadDuration(value("0"), &diag).has_value());
  EXPECT_EQ(ReadByteSize(value("1KiB"), &diag), 1024u);
  ASSERT_EQ(diag.error_count(), 3u);
  EXPECT_NE(diag.errors()[0].message.find("did you mean 'daily'?"), std::string::npos);
}

}  // namespace
}  // namespace intraday
