rule jsp_runtime_exec
{
    meta:
        id = "shellward-yara-jsp-runtime-exec"
        title = "JSP Runs A Command From The Request"
        description = "A JSP page that reads request parameters and runs a process (Runtime.getRuntime().exec, ProcessBuilder): a JSP command shell"
        level = "critical"
        attack = "attack.persistence, attack.t1505.003, attack.execution, attack.t1059"
        author = "shellward"
    strings:
        $exec = /(getruntime\s*\(\s*\)\s*\.\s*exec\s*\(|new\s+processbuilder\s*\(|\.exec\s*\(\s*new\s+string\s*\[)/ nocase
        $req = /request\s*\.\s*(getparameter|getheader|getinputstream|getreader|getparametervalues|getquerystring)\s*\(/ nocase
        $runtime = /\bgetruntime\s*\(\s*\)/ nocase
        $dot_exec = /\.exec\s*\(/ nocase
        $bytes = /new\s+string\s*\(\s*new\s+byte\s*\[\s*\]\s*\{\s*\d{1,3}\s*,\s*\d{1,3}\s*,/ nocase
        $reflect = /\.getmethod\s*\([^;]{0,200}\.invoke\s*\(/ nocase
        $forname = /class\s*\.\s*forname\s*\(/ nocase
        $bsh = /new\s+(bsh\.)?interpreter\s*\(\s*\)/ nocase
    condition:
        $req and ($exec or ($runtime and $dot_exec) or ($bytes and $reflect and $forname) or ($bsh and $dot_exec))
}
