rule jsp_class_loader
{
    meta:
        id = "shellward-yara-jsp-class-loader"
        title = "JSP Defines A Class Or Evaluates A Script Sent In The Request"
        description = "A JSP page that defines a Java class from request bytes (ClassLoader.defineClass, usually after AES: Behinder, Godzilla) or evaluates request text with a script engine: encrypted in-memory web shells"
        level = "critical"
        attack = "attack.persistence, attack.t1505.003"
        author = "shellward"
    strings:
        $define = /\bdefineclass\s*\(/ nocase
        $loader = /extends\s+classloader\b|classloader\s*\.\s*class\s*\.\s*getdeclaredmethod\s*\(\s*["']defineclass["']/ nocase
        $cipher = /cipher\s*\.\s*getinstance\s*\(/ nocase
        $req = /request\s*\.\s*(getreader|getinputstream|getparameter|getattribute)\s*\(/ nocase
        $engine = /new\s+(javax\.script\.)?scriptenginemanager\s*\(/ nocase
        $eval = /\.eval\s*\(\s*request\s*\.\s*getparameter\s*\(/ nocase
    condition:
        ($define and ($loader or $cipher) and $req) or ($engine and $eval)
}
