// docs/openapi.yaml against the server itself: every route the router has registered is
// described there, and every described operation answers on a running server (not with the
// router's "no such route" 404 or its 405), with a status the description lists.
#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "server/http/router.hpp"
#include "tests/support/test_support.hpp"

namespace seedhook::test {
namespace {

struct Operation {
    std::string method;  ///< upper case, as the router has it
    std::string path;    ///< the OpenAPI path template, e.g. "/v1/jobs/{id}"
    YAML::Node node;
};

YAML::Node load_description() {
    return YAML::LoadFile(SEEDHOOK_OPENAPI_FILE);
}

std::string upper(std::string s) {
    for (char& c : s) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return s;
}

// "/v1/jobs/{id}" -> "/v1/jobs/{}": a capture's name is the description's business, its place
// is the router's.
std::string shape(const std::string& pattern) {
    std::string out;
    bool in_capture = false;
    for (const char c : pattern) {
        if (c == '{') {
            in_capture = true;
            out += "{}";
        } else if (c == '}') {
            in_capture = false;
        } else if (!in_capture) {
            out += c;
        }
    }
    return out;
}

std::vector<Operation> described_operations(const YAML::Node& doc) {
    static const std::set<std::string> kMethods = {
        "get", "put", "post", "delete", "options", "head", "patch", "trace"};
    std::vector<Operation> out;
    for (const auto& path : doc["paths"]) {
        for (const auto& item : path.second) {
            const auto key = item.first.as<std::string>();
            if (kMethods.contains(key)) {
                out.push_back({upper(key), path.first.as<std::string>(), item.second});
            }
        }
    }
    return out;
}

// Follows a local "$ref": "#/components/..." to the node it names.
YAML::Node resolve(const YAML::Node& doc, const YAML::Node& node) {
    if (!node.IsMap() || !node["$ref"]) {
        return node;
    }
    const auto ref = node["$ref"].as<std::string>();
    EXPECT_TRUE(ref.starts_with("#/")) << "not a local reference: " << ref;
    YAML::Node at = doc;
    for (std::size_t start = 2; start <= ref.size();) {
        const auto slash = std::min(ref.find('/', start), ref.size());
        at.reset(std::as_const(at)[ref.substr(start, slash - start)]);  // a const read adds no key
        start = slash + 1;
    }
    EXPECT_TRUE(at.IsDefined()) << "dangling reference: " << ref;
    return at;
}

// A value to put in the place of path parameter `name`: its example (the parameter's, else its
// schema's), else its schema's first enum value.
std::string placeholder(const YAML::Node& doc, const Operation& op, const YAML::Node& path_item, const std::string& name) {
    for (const auto& list : {op.node["parameters"], path_item["parameters"]}) {
        for (const auto& raw : list) {
            const YAML::Node p = resolve(doc, raw);
            if (p["in"].as<std::string>("") != "path" || p["name"].as<std::string>("") != name) {
                continue;
            }
            if (p["example"]) {
                return p["example"].as<std::string>();
            }
            const YAML::Node schema = resolve(doc, p["schema"]);
            if (schema["example"]) {
                return schema["example"].as<std::string>();
            }
            if (schema["examples"] && schema["examples"].size() > 0) {
                return schema["examples"][0].as<std::string>();
            }
            if (schema["enum"] && schema["enum"].size() > 0) {
                return schema["enum"][0].as<std::string>();
            }
        }
    }
    return "placeholder";
}

std::string concrete_path(const YAML::Node& doc, const Operation& op) {
    const YAML::Node path_item = doc["paths"][op.path];
    std::string out;
    for (std::size_t i = 0; i < op.path.size(); ++i) {
        if (op.path[i] != '{') {
            out += op.path[i];
            continue;
        }
        const auto close = op.path.find('}', i);
        out += placeholder(doc, op, path_item, op.path.substr(i + 1, close - i - 1));
        i = close;
    }
    return out;
}

std::string error_message(const Response& r) {
    auto doc = json::parse(r.body);
    const json::Value* error = doc ? json::find(*doc, "error") : nullptr;
    const auto message = error != nullptr ? json::get_string(*error, "message") : std::nullopt;
    return message ? std::string(*message) : std::string();
}

class OpenApi : public ::testing::Test {
protected:
    TempDir dir;
    RunningApp app{base_config(dir, free_port())};
    YAML::Node doc = load_description();
};

TEST_F(OpenApi, DescribesEveryRouteTheServerAnswers) {
    std::set<std::pair<std::string, std::string>> described;
    for (const auto& op : described_operations(doc)) {
        described.emplace(op.method, shape(op.path));
    }
    const auto routes = app.app().router().routes();
    ASSERT_FALSE(routes.empty());
    for (const auto& route : routes) {
        EXPECT_TRUE(described.contains({route.method, shape(route.pattern)}))
            << route.method << " " << route.pattern << " is served but not in docs/openapi.yaml";
    }
}

TEST_F(OpenApi, DescribesNoRouteTheServerLacks) {
    std::set<std::pair<std::string, std::string>> served;
    for (const auto& route : app.app().router().routes()) {
        served.emplace(route.method, shape(route.pattern));
    }
    const auto ops = described_operations(doc);
    ASSERT_FALSE(ops.empty());
    for (const auto& op : ops) {
        EXPECT_TRUE(served.contains({op.method, shape(op.path)}))
            << op.method << " " << op.path << " is in docs/openapi.yaml but has no route";
    }
}

// Each described operation, sent with placeholder ids, an empty JSON object as the body and a
// valid bearer token, is answered by its handler: a 404 is fine when it is not the router's.
TEST_F(OpenApi, EveryDescribedOperationAnswersOnARunningServer) {
    const auto no_route = app.client().get("/v1/openapi-test/no/such/route");
    ASSERT_EQ(no_route.status, 404) << no_route.body;
    const std::string router_message = error_message(no_route);
    ASSERT_FALSE(router_message.empty()) << no_route.body;

    for (const auto& op : described_operations(doc)) {
        const std::string path = concrete_path(doc, op);
        std::vector<std::pair<std::string, std::string>> headers = {
            {"Authorization", std::string("Bearer ") + kToken}};
        std::string body;
        if (op.method == "POST" || op.method == "PUT" || op.method == "PATCH") {
            headers.emplace_back("Content-Type", "application/json");
            body = "{}";
        }
        const auto r = app.client().request(op.method, path, body, headers);
        const std::string what = op.method + " " + path + " -> " + std::to_string(r.status) + " " + r.body;
        EXPECT_NE(r.status, 405) << what;
        EXPECT_FALSE(r.status == 404 && error_message(r) == router_message)
            << what << " (the router has no such route)";
        const YAML::Node responses = op.node["responses"];
        EXPECT_TRUE(responses[std::to_string(r.status)] || responses["default"])
            << what << ": status not among the described responses";
        EXPECT_TRUE(r.headers.has("X-Request-Id")) << what;
    }
}

}  // namespace
}  // namespace seedhook::test
