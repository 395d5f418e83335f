rule asp_dynamic_execute
{
    meta:
        id = "shellward-yara-asp-dynamic-execute"
        title = "ASP Executes Hidden Or Indirect Code"
        description = "A classic ASP page that hides its code (Script Encoder's VBScript.Encode, the UTF-7 code page), executes what a function decodes, a session value or a variable taken from the request, creates objects from names assembled with chr(), or runs statements through MSScriptControl: the evasive forms of the ASP one-liner"
        level = "high"
        attack = "attack.persistence, attack.t1505.003, attack.defense_evasion, attack.t1027"
        author = "shellward"
    strings:
        $encoded = /<%@\s*language\s*=\s*["']?vbscript\.encode/ nocase
        $encoded_body = "#@~^"
        $utf7 = /<%@\s*codepage\s*=\s*["']?65000/ nocase
        $exec_call = /(^|[^.\w>:$])(execute|executeglobal)(\s*\(\s*|\s+)((session|application)\s*\(\s*)?[a-z_]\w{0,30}\s*\(/ nocase
        $exec_session = /(^|[^.\w>:$])(execute|executeglobal|eval)(\s*\(\s*|\s+)(session|application)\s*\(/ nocase
        $assign = /[a-z_]\w{0,20}\s*=\s*request\s*(\.\s*(form|querystring|item|cookies)\s*)?[\(\[]/ nocase
        $exec_var = /(^|[^.\w>:$])(execute|executeglobal|eval)(\s*\(\s*|\s+)[a-z_]\w{0,20}\s*\)?\s*($|%>|:|\r|\n)/ nocase
        $obf_object = /createobject\s*\(\s*"[^"]{0,30}"\s*&\s*chr\s*\(/ nocase
        $script_control = /\.executestatement\s*[\( ]/ nocase
    condition:
        not (extension matches /^(php\d?|phtml|inc|jsp|jspx|py|pl|cgi|cfm|cfc)$/i) and
        (($encoded and $encoded_body) or $utf7 or $exec_session or $obf_object or $script_control
        or $exec_call or ($assign and $exec_var))
}
