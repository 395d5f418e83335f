rule asp_request_execute
{
    meta:
        id = "shellward-yara-asp-request-execute"
        title = "ASP Executes Code From The Request"
        description = "Execute, ExecuteGlobal or Eval given Request data in a classic ASP page (VBScript or JScript): the ASP one-liner web shell"
        level = "critical"
        attack = "attack.persistence, attack.t1505.003"
        author = "shellward"
    strings:
        $exec = /\b(execute|executeglobal|eval)\s*\(?\s*(\(\s*)?request\s*(\.\s*(form|querystring|item|cookies)\s*)?[\(\[]/ nocase
        $indirect = /\b(execute|executeglobal)\s*\(?\s*[a-z_][a-z_0-9]{0,20}\s*\(\s*request\s*(\.\s*(form|querystring|item)\s*)?\(/ nocase
    condition:
        any of them
}
